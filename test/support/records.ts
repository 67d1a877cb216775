/** Valid dispense records for tests and benchmarks. */
import { randomUUID } from 'node:crypto';
import type { Dispense } from '../../schemas/dispense';

export function makeDispense(overrides: Partial<Dispense> & Pick<Dispense, 'siteId' | 'dispensedBy'>, i = 0): Dispense {
  const at = new Date(Date.UTC(2026, 10, 25, 9, 0, 0) + i * 1000).toISOString();
  return {
    externalId: randomUUID(),
    patientId: `P${100000 + (i % 5000)}`,
    patientName: `Patient ${i % 5000}`,
    medicationCode: `MED${i % 300}`,
    medicationName: 'Amoxicillin 500 mg capsules',
    quantity: 21,
    unit: 'capsule',
    batchNumber: `B${i % 97}`,
    expiryDate: '2028-06-30',
    dispensedAt: at,
    status: 'dispensed',
    updatedAt: at,
    ...overrides,
  };
}
