import { fieldLabel, inWords, isBookkeeping } from './field-words';

test("a field reads as the form's label; one the form does not show has words too; bookkeeping is marked", () => {
  expect(fieldLabel('dispensedAt')).toBe('Dispensed at');
  expect(fieldLabel('quantity')).toBe('Quantity');
  expect(fieldLabel('voidReason')).toBe('Reason for voiding');
  expect(fieldLabel('duplicateConfirmedBy')).toBe('Duplicate confirmed by');
  expect(['updatedAt', 'siteId', 'externalId', 'quantity', 'status'].filter(isBookkeeping)).toEqual(['updatedAt', 'siteId', 'externalId']);
});

test("the server's reasons read with the form's labels, never a field name", () => {
  expect(
    inWords(
      `dispensedAt is 4 minutes ahead of the server's clock: this device's clock is fast. Set the device's clock right, then correct the record's "Dispensed at" and save it again.`,
    ),
  ).toBe(
    `Dispensed at is 4 minutes ahead of the server's clock: this device's clock is fast. Set the device's clock right, then correct the record's "Dispensed at" and save it again.`,
  );
  expect(inWords('The record is not valid: quantity: Too big; expiryDate: Expiry date is before the dispense date')).toBe(
    'The record is not valid: Quantity: Too big; Expiry date: Expiry date is before the dispense date',
  );
  expect(inWords('dispensedBy "pharm2" is not a user of site SITE-1')).toBe('Dispensed by "pharm2" is not a user of site SITE-1');
  expect(inWords('Records of site SITE-1 only can be written by this user')).toBe('Records of site SITE-1 only can be written by this user');
  expect(inWords('the quantity on the notes')).toBe('the quantity on the notes');
});
