/**
 * Test users, made by the server's own addUser (as `npm run user` makes them): over a server's
 * db when it runs in the test, over its database when it runs in a process of its own.
 */
import type { Knex } from 'knex';
import type { User } from '../../schemas/api';
import { openDatabase } from '../../server/db';
import { addUser, type NewUser } from '../../server/users';
import { TEST_PASSWORD } from './api';

/** A user to make: a pharmacist with the test password unless said otherwise. */
export type SeedUser = Pick<NewUser, 'username' | 'siteId'> & Partial<NewUser>;

/** Adds the users one after another (their ids in the order given) and returns them. */
export async function seedUsers(db: Knex | string, users: SeedUser[]): Promise<User[]> {
  if (typeof db === 'string') {
    const own = await openDatabase({ url: db, dataDir: 'unused', poolMax: 1 });
    try {
      return await seedUsers(own, users);
    } finally {
      await own.destroy();
    }
  }
  const made: User[] = [];
  for (const u of users) made.push(await addUser(db, { ...u, password: u.password ?? TEST_PASSWORD, role: u.role ?? 'pharmacist' }));
  return made;
}
