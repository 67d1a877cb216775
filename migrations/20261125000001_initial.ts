/** Users, dispense records, their append-only audit trail and the shared rate-limit counters. */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.increments('id').primary();
    t.string('username', 64).notNullable().unique();
    t.string('display_name', 200).notNullable();
    t.string('site_id', 64).notNullable();
    t.string('role', 16).notNullable().checkIn(['pharmacist', 'admin']);
    t.text('password_hash').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('dispenses', (t) => {
    t.uuid('external_id').primary();
    t.string('site_id', 64).notNullable();
    t.string('patient_id', 64).notNullable();
    t.string('patient_name', 200);
    t.string('medication_code', 64).notNullable();
    t.string('medication_name', 200).notNullable();
    t.double('quantity').notNullable();
    t.string('unit', 16).notNullable();
    t.string('batch_number', 64);
    t.date('expiry_date');
    t.string('prescriber', 200);
    t.string('prescription_ref', 64);
    t.timestamp('dispensed_at', { useTz: true }).notNullable();
    t.string('dispensed_by', 64).notNullable();
    t.string('status', 16).notNullable().checkIn(['dispensed', 'voided']);
    t.string('void_reason', 500);
    t.string('notes', 1000);
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('server_updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('ALTER TABLE dispenses ADD CONSTRAINT dispenses_quantity_range CHECK (quantity > 0 AND quantity <= 100000)');
  await knex.raw("ALTER TABLE dispenses ADD CONSTRAINT dispenses_void_reason CHECK (status <> 'voided' OR void_reason IS NOT NULL)");
  // The site's list, newest first, paged by dispensed_at.
  await knex.raw('CREATE INDEX dispenses_site_dispensed_at ON dispenses (site_id, dispensed_at DESC, external_id DESC)');

  await knex.schema.createTable('audit_logs', (t) => {
    t.bigIncrements('id').primary();
    t.string('entity', 32).notNullable();
    t.uuid('entity_id').notNullable();
    t.string('action', 16).notNullable().checkIn(['create', 'update', 'void']);
    t.string('actor', 64).notNullable();
    t.string('device_id', 64);
    t.specificType('changed', 'text[]').notNullable();
    t.jsonb('before');
    t.jsonb('after').notNullable();
    t.string('request_id', 64);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE INDEX audit_logs_entity ON audit_logs (entity, entity_id, id)');
  // Append-only: the trail of a health record is never rewritten.
  await knex.raw(`
    CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_logs is append-only'; END $$`);
  await knex.raw(`
    CREATE TRIGGER audit_logs_no_change BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only()`);

  await knex.schema.createTable('site_sync', (t) => {
    t.string('site_id', 64).primary();
    t.timestamp('last_push_at', { useTz: true }).notNullable();
  });

  // rate-limiter-flexible's RateLimiterPostgres layout, so several server instances share counters.
  await knex.schema.createTable('rate_limits', (t) => {
    t.string('key', 255).primary();
    t.integer('points').notNullable().defaultTo(0);
    t.bigInteger('expire');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('rate_limits');
  await knex.schema.dropTable('site_sync');
  await knex.schema.dropTable('audit_logs');
  await knex.raw('DROP FUNCTION audit_logs_append_only');
  await knex.schema.dropTable('dispenses');
  await knex.schema.dropTable('users');
}
