/**
 * People and access: the site admin's staff routes, a user's own password change, the site's
 * live sessions and the admin log. Both sides parse with these; the README's API table says what
 * each route does. Bodies are strict: a key the route does not take (siteId, id) is a 400.
 */
import { z } from 'zod';
import { ROLES } from './api';
import { isoInstant } from './dispense';

/** A username as the server accepts it: in a body, in a path, and on the user command. */
export const USERNAME = /^[A-Za-z0-9._-]{1,64}$/;
export const usernameSchema = z.string().regex(USERNAME, 'A username is 1 to 64 letters, digits, dots, underscores or hyphens');

// A name as people write it: any script, but no control characters (NUL cannot be stored) and no
// broken characters (an unpaired surrogate).
const displayNameSchema = z
  .string()
  .trim()
  .min(1, 'A display name needs at least one character')
  .max(200)
  .refine((v) => !/[\p{Cc}\p{Cs}]/u.test(v), 'A display name cannot hold control characters or broken characters');
/** A password as sent; the rules (length counted in characters, the common list) are the server's (server/passwords.ts). */
const passwordSchema = z.string().min(1, 'A password is required').max(1024, 'A password is at most 256 characters');

export const staffMemberSchema = z.object({
  username: z.string(),
  displayName: z.string(),
  role: z.enum(ROLES),
  disabled: z.boolean(),
  /** The password was set by a site admin (a new user, a reset) and must be changed at the next sign-in. */
  mustChangePassword: z.boolean(),
  lastSignInAt: isoInstant().nullable(),
});
export type StaffMember = z.infer<typeof staffMemberSchema>;
export const staffListSchema = z.object({ users: z.array(staffMemberSchema) });
export const staffMemberResponseSchema = z.object({ user: staffMemberSchema });

/** POST /api/users: the password is a temporary one, to be changed at the first sign-in. */
export const newStaffMemberSchema = z.strictObject({
  username: usernameSchema,
  displayName: displayNameSchema.optional(),
  role: z.enum(ROLES),
  password: passwordSchema,
});
export type NewStaffMember = z.infer<typeof newStaffMemberSchema>;

/** PATCH /api/users/:username. */
export const staffChangeSchema = z
  .strictObject({ role: z.enum(ROLES).optional(), disabled: z.boolean().optional(), displayName: displayNameSchema.optional() })
  .refine(
    (c) => c.role !== undefined || c.disabled !== undefined || c.displayName !== undefined,
    'Say what to change: role, disabled or displayName',
  );
export type StaffChange = z.infer<typeof staffChangeSchema>;

/** POST /api/users/:username/password: a temporary password set by a site admin. */
export const passwordResetSchema = z.strictObject({ password: passwordSchema });

/** POST /api/auth/password: the signed-in user's own change; the answer is a sign-in answer (a new token). */
export const passwordChangeSchema = z.strictObject({ currentPassword: passwordSchema, newPassword: passwordSchema });
export type PasswordChange = z.infer<typeof passwordChangeSchema>;

export const sessionSchema = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  /** The device it was started on or first synced from; null when no device said. */
  deviceId: z.string().nullable(),
  startedAt: isoInstant(),
  /** Updated at most once a minute. */
  lastSeenAt: isoInstant(),
  expiresAt: isoInstant(),
  /** The session of the request that asked. */
  current: z.boolean(),
});
export type Session = z.infer<typeof sessionSchema>;
export const sessionsResponseSchema = z.object({ sessions: z.array(sessionSchema) });

export const ADMIN_ACTIONS = [
  'user.create',
  'user.update',
  'user.password_reset',
  'user.password_change',
  'session.end',
  'device.revoke',
  'device.restore',
] as const;

export const adminLogEntrySchema = z.object({
  id: z.string(),
  /** The site admin who acted, or `cli:<login>` for an operator's user command. */
  actor: z.string(),
  action: z.enum(ADMIN_ACTIONS),
  /** The username, session id or device id acted on. */
  target: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  createdAt: isoInstant(),
});
export type AdminLogEntry = z.infer<typeof adminLogEntrySchema>;

export const adminLogQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** The previous page's nextCursor. */
  cursor: z
    .string()
    .regex(/^[1-9]\d{0,17}$/, 'Invalid cursor')
    .optional(),
});
export const adminLogPageSchema = z.object({ entries: z.array(adminLogEntrySchema), nextCursor: z.string().nullable() });
export type AdminLogPage = z.infer<typeof adminLogPageSchema>;
