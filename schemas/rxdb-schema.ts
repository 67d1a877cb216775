/**
 * Derives the RxDB collection schema of `dispenses` from the zod record, so the browser's
 * storage and the wire protocol cannot drift apart. Bump DISPENSE_SCHEMA_VERSION (and add a
 * migration strategy in client/data/dispense-migrations.ts) whenever the derived schema changes.
 */
import { z } from 'zod';
import { dispenseObjectSchema } from './dispense';

/**
 * 1: the index of a patient's records (the counter's patient history and duplicate warning).
 * 2: a confirmed duplicate's who and when, and an edit's reason (optional fields).
 */
export const DISPENSE_SCHEMA_VERSION = 2;

/**
 * The version this build stores records under: DISPENSE_SCHEMA_VERSION, except in a test build
 * made with SEMS_TEST_SCHEMA_VERSION (vite.config.ts defines it), which stores the same schema under
 * a higher version number to prove that an update migrates the records on a device.
 */
declare const __SEMS_TEST_SCHEMA_VERSION__: number | undefined;
export const BUILT_SCHEMA_VERSION: number = typeof __SEMS_TEST_SCHEMA_VERSION__ === 'number' ? __SEMS_TEST_SCHEMA_VERSION__ : DISPENSE_SCHEMA_VERSION;

type JsonSchema = { type?: string; maxLength?: number; format?: string; [key: string]: unknown };

export interface DispenseRxJsonSchema {
  title: string;
  version: number;
  primaryKey: 'externalId';
  type: 'object';
  properties: Record<string, JsonSchema>;
  required: string[];
  indexes: string[][];
  additionalProperties: false;
}

export function dispenseRxJsonSchema(): DispenseRxJsonSchema {
  const {
    $schema: _ignored,
    properties,
    required,
  } = z.toJSONSchema(dispenseObjectSchema, { io: 'input' }) as {
    $schema?: string;
    properties: Record<string, JsonSchema>;
    required: string[];
  };
  return {
    title: 'dispenses',
    version: BUILT_SCHEMA_VERSION,
    primaryKey: 'externalId',
    type: 'object',
    properties,
    required,
    // The list shows newest first; the counter reads a patient's records by patientId. RxDB appends
    // the primary key to each index; Dexie needs required, bounded fields.
    indexes: [['dispensedAt'], ['updatedAt'], ['patientId', 'dispensedAt']],
    additionalProperties: false,
  };
}
