/**
 * Devices and proof of delivery: one row per device of a site, with what the server saw of it
 * (last user, first and last seen, last push, clock offset) and what it last reported (pending,
 * oldest pending, app version, records made since set-up). An audit row keeps the offset of its
 * device's clock, and the creates of a device are counted along an index of their own.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('devices', (t) => {
    t.string('site_id', 64).notNullable();
    t.string('device_id', 64).notNullable();
    t.string('last_user', 64).notNullable();
    t.timestamp('first_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_push_at', { useTz: true });
    t.timestamp('reported_at', { useTz: true });
    t.integer('pending_count');
    t.timestamp('oldest_pending_at', { useTz: true });
    t.string('app_version', 64);
    t.integer('made_count');
    // The device's clock minus the server's, in milliseconds, measured at its last report.
    t.bigInteger('clock_offset_ms');
    t.primary(['site_id', 'device_id']);
  });
  await knex.raw('ALTER TABLE audit_logs ADD COLUMN clock_offset_ms bigint');
  // How many of a device's records the server holds: its creates, one per record.
  await knex.raw("CREATE INDEX audit_logs_device_creates ON audit_logs (device_id) WHERE action = 'create'");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX audit_logs_device_creates');
  await knex.raw('ALTER TABLE audit_logs DROP COLUMN clock_offset_ms');
  await knex.schema.dropTable('devices');
}
