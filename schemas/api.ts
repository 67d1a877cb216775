/**
 * The HTTP contract (API version 1): request and response bodies both sides parse with.
 * The README's "API" section says what each route does; the push rows follow RxDB's replication protocol.
 */
import { z } from 'zod';
import { dispenseSchema, dispenseShape, isoInstant } from './dispense';

export const MAX_PUSH_ROWS = 1000;
export const ROLES = ['pharmacist', 'admin'] as const;

/** Every error the API returns has this body. */
export const errorIssueSchema = z.object({
  path: z.array(z.union([z.string(), z.number()])),
  code: z.string(),
  message: z.string(),
});
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    issues: z.array(errorIssueSchema).optional(),
  }),
});
export type ErrorIssue = z.infer<typeof errorIssueSchema>;
export type ErrorBody = z.infer<typeof errorBodySchema>;

export const loginRequestSchema = z.strictObject({
  username: z.string().trim().min(1, 'Username is required').max(64),
  // Up to 256 characters as the rules count them (server/passwords.ts), typed in any form.
  password: z.string().min(1, 'Password is required').max(1024),
});
export type LoginRequest = z.infer<typeof loginRequestSchema>;

export const userSchema = z.object({
  id: z.number().int(),
  username: z.string(),
  displayName: z.string(),
  siteId: z.string(),
  role: z.enum(ROLES),
});
export type User = z.infer<typeof userSchema>;

/**
 * The site's users who may sign in, each with a stamp of their access: a device drops the offline
 * verifier of a user who is missing here (disabled) or whose stamp changed since it kept it
 * (password changed or reset, role changed). Sent at sign-in and in each device report's answer.
 */
export const offlineAccessSchema = z.record(z.string(), z.string());
export type OfflineAccess = z.infer<typeof offlineAccessSchema>;

export const loginResponseSchema = z.object({
  token: z.string(),
  expiresAt: isoInstant(),
  user: userSchema,
  /**
   * How long after this sign-in the user may sign in on this device with no network, against the
   * verifier it keeps (client/offline/); 0: not at all. The server's OFFLINE_SIGN_IN_DAYS.
   */
  offlineSignInSeconds: z.number().int().min(0),
  /** The password was set by a site admin: until it is changed (POST /api/auth/password) every other route answers 403 password_change_required. */
  mustChangePassword: z.boolean(),
  offlineAccess: offlineAccessSchema,
});
export type LoginResponse = z.infer<typeof loginResponseSchema>;

/** A JSON object, checked without being copied (z.record copies every key of every row). */
const jsonObject = z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), {
  error: 'Expected an object',
});

/**
 * One push row as RxDB sends it. The record itself is parsed row by row (a bad record is
 * rejected, the rest of the batch lands), so the envelope only checks that it is an object.
 */
export const pushRowSchema = z.strictObject({
  newDocumentState: jsonObject,
  assumedMasterState: jsonObject.nullable().optional(),
});
export const pushRequestSchema = z.strictObject({
  rows: z.array(pushRowSchema).min(1, 'A push needs at least one row'),
});
export type PushRow = z.infer<typeof pushRowSchema>;

export const rejectedRowSchema = z.object({
  externalId: z.string().nullable(),
  code: z.string(),
  message: z.string(),
  issues: z.array(errorIssueSchema).optional(),
});
export type RejectedRow = z.infer<typeof rejectedRowSchema>;

export const pushResponseSchema = z.object({
  conflicts: z.array(dispenseSchema),
  rejected: z.array(rejectedRowSchema),
});
export type PushResponse = z.infer<typeof pushResponseSchema>;

export const syncStatusSchema = z.object({
  serverTime: isoInstant(),
  totalRecords: z.number().int(),
  siteRecords: z.number().int(),
  lastPushAt: isoInstant().nullable(),
  /** The server's settings the client reads at each sync: the days of the site's records a device keeps (PULL_WINDOW_DAYS). */
  pullWindowDays: z.number().int().positive(),
  /** Hours within which the same patient and medication code again is a possible duplicate dispense (DUPLICATE_WINDOW_HOURS). */
  duplicateWindowHours: z.number().int().positive(),
});
export type SyncStatus = z.infer<typeof syncStatusSchema>;

/** The most ids one ask of POST /api/sync/dispenses/missing takes. */
export const MAX_MISSING_IDS = 1000;

/**
 * After the server's database was restored from an older backup, a device asks which of the
 * records it made the server no longer holds, and sends those again (client/sync/resend.ts).
 */
export const missingRequestSchema = z.strictObject({
  externalIds: z
    .array(dispenseShape.externalId)
    .min(1, 'Ask about at least one id')
    .max(MAX_MISSING_IDS, `At most ${MAX_MISSING_IDS} ids per request`),
});
export type MissingRequest = z.infer<typeof missingRequestSchema>;
/** Of the ids asked about, those the caller's site does not hold (another site's record is one of them: it is not this site's). */
export const missingResponseSchema = z.object({ missing: z.array(z.string()) });
export type MissingResponse = z.infer<typeof missingResponseSchema>;

export const MAX_PULL_ROWS = 1000;

/**
 * The pull's query. The checkpoint is opaque to the client: the previous answer's, or none for a
 * first pull; the server checks what it holds (server/pull.ts).
 */
export const pullQuerySchema = z.object({
  checkpoint: z.string().max(256, 'Invalid checkpoint').optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PULL_ROWS).default(100),
});
export const pullResponseSchema = z.object({
  documents: z.array(dispenseSchema),
  checkpoint: z.string(),
  /** During a device's first pull: how many of the window's records have been sent, of how many (a progress bar). */
  window: z.object({ sent: z.number().int().min(0), total: z.number().int().min(0) }).optional(),
});
export type PullResponse = z.infer<typeof pullResponseSchema>;

/** A page cursor is the last item's `dispensedAt_externalId`; both halves are checked so the query cannot fail on a cast. */
function isCursor(cursor: string): boolean {
  const [at, id, ...rest] = cursor.split('_');
  return rest.length === 0 && isoInstant().safeParse(at).success && dispenseShape.externalId.safeParse(id).success;
}

export const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  /** Opaque cursor from the previous page's `nextCursor`. */
  cursor: z.string().max(100).refine(isCursor, 'Invalid cursor').optional(),
  /** Only this patient's records: their history at the site. */
  patientId: dispenseShape.patientId.optional(),
});
export const dispensePageSchema = z.object({
  items: z.array(dispenseSchema),
  nextCursor: z.string().nullable(),
});
export type DispensePage = z.infer<typeof dispensePageSchema>;

export const auditEntrySchema = z.object({
  id: z.number().int(),
  action: z.enum(['create', 'update', 'void']),
  actor: z.string(),
  deviceId: z.string().nullable(),
  requestId: z.string().nullable(),
  /** When the change reached the server. */
  createdAt: isoInstant(),
  /** The pushing device's clock minus the server's, as last measured (null: not measured yet). */
  clockOffsetMs: z.number().int().nullable(),
  changed: z.array(z.string()),
  before: dispenseSchema.nullable(),
  after: dispenseSchema,
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;
export const dispenseDetailSchema = z.object({ record: dispenseSchema, audit: z.array(auditEntrySchema) });

export const healthSchema = z.object({ status: z.enum(['ok', 'degraded']), database: z.enum(['up', 'down']) });

/** The longest period one totals request covers. */
export const MAX_TOTALS_DAYS = 366;

/**
 * GET /api/dispenses/totals?from=&to=: the period [from, to), two instants (a day, or a shift the
 * user picks); `from` before `to`, at most MAX_TOTALS_DAYS apart.
 */
export const totalsQuerySchema = z
  .object({ from: isoInstant(), to: isoInstant() })
  .refine(({ from, to }) => from < to, { path: ['to'], message: 'The end of the period must be after its start' })
  .refine(({ from, to }) => Date.parse(to) - Date.parse(from) <= MAX_TOTALS_DAYS * 24 * 3_600_000, {
    path: ['to'],
    message: `A period is at most ${MAX_TOTALS_DAYS} days`,
  });
export type TotalsQuery = z.infer<typeof totalsQuerySchema>;

/** One medication (codes matched ignoring case and surrounding space) in one unit, in a period. */
export const medicationTotalSchema = z.object({
  /** The code and name of the group's newest record. */
  medicationCode: z.string(),
  medicationName: z.string(),
  unit: dispenseShape.unit,
  /** Dispenses not voided, and the quantity they handed out (to the thousandth). */
  dispensed: z.number().int().min(0),
  quantity: z.number().min(0),
  /** Voided dispenses: counted apart, their quantity in no total. */
  voided: z.number().int().min(0),
});
export type MedicationTotal = z.infer<typeof medicationTotalSchema>;
export const dispenseTotalsSchema = z.object({ from: isoInstant(), to: isoInstant(), totals: z.array(medicationTotalSchema) });
export type DispenseTotals = z.infer<typeof dispenseTotalsSchema>;
