/**
 * Derives the RxDB collection schema of `dispenses` from the zod record, so the browser's
 * storage and the wire protocol cannot drift apart. Bump DISPENSE_SCHEMA_VERSION (and add a
 * migration strategy in the client) whenever the derived schema changes.
 */
import { z } from 'zod';
import { dispenseObjectSchema } from './dispense';

export const DISPENSE_SCHEMA_VERSION = 0;

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
  const { $schema: _ignored, properties, required } = z.toJSONSchema(dispenseObjectSchema, { io: 'input' }) as {
    $schema?: string;
    properties: Record<string, JsonSchema>;
    required: string[];
  };
  return {
    title: 'dispenses',
    version: DISPENSE_SCHEMA_VERSION,
    primaryKey: 'externalId',
    type: 'object',
    properties,
    required,
    // The list shows newest first; RxDB appends the primary key to each index; Dexie needs required, bounded fields.
    indexes: [['dispensedAt'], ['updatedAt']],
    additionalProperties: false,
  };
}
