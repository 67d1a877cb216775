/**
 * People and access: a user can be disabled and made to change a password; each sign-in is a
 * session (its token carries the session's id) that ends at sign-out, by a site admin, or when the
 * user's access changes (tokens_valid_after); a device can be revoked; and every admin action
 * goes to an append-only admin log of its site.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.timestamp('disabled_at', { useTz: true });
    t.boolean('must_change_password').notNullable().defaultTo(false);
    // A session started before this instant has ended: disable, role change, password change or reset.
    t.timestamp('tokens_valid_after', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_sign_in_at', { useTz: true });
  });

  await knex.schema.createTable('sessions', (t) => {
    t.uuid('id').primary();
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('site_id', 64).notNullable();
    t.string('device_id', 64);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true });
    t.string('revoked_reason', 32);
  });
  await knex.raw('CREATE INDEX sessions_user ON sessions (user_id)');
  // The site's live sessions (the admin's list) and a device's (its revocation).
  await knex.raw('CREATE INDEX sessions_site_live ON sessions (site_id, device_id) WHERE revoked_at IS NULL');

  await knex.schema.alterTable('devices', (t) => {
    t.timestamp('revoked_at', { useTz: true });
    t.string('revoked_by', 64);
  });

  await knex.schema.createTable('admin_log', (t) => {
    t.bigIncrements('id').primary();
    t.string('site_id', 64).notNullable();
    t.string('actor', 64).notNullable();
    t.string('action', 32).notNullable();
    t.string('target', 128);
    t.jsonb('details').notNullable().defaultTo('{}');
    t.string('request_id', 64);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE INDEX admin_log_site ON admin_log (site_id, id DESC)');
  // Append-only, like audit_logs: no row is changed or removed, and the table is never emptied.
  await knex.raw(`
    CREATE FUNCTION admin_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'admin_log is append-only'; END $$`);
  await knex.raw(`
    CREATE TRIGGER admin_log_no_change BEFORE UPDATE OR DELETE ON admin_log
    FOR EACH ROW EXECUTE FUNCTION admin_log_append_only()`);
  await knex.raw(`
    CREATE TRIGGER admin_log_no_truncate BEFORE TRUNCATE ON admin_log
    FOR EACH STATEMENT EXECUTE FUNCTION admin_log_append_only()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('admin_log');
  await knex.raw('DROP FUNCTION admin_log_append_only');
  await knex.schema.alterTable('devices', (t) => {
    t.dropColumn('revoked_by');
    t.dropColumn('revoked_at');
  });
  await knex.schema.dropTable('sessions');
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('last_sign_in_at');
    t.dropColumn('tokens_valid_after');
    t.dropColumn('must_change_password');
    t.dropColumn('disabled_at');
  });
}
