import { describe, expect, it } from 'vitest';
import {
  MAX_TRTC_USER_ID_LENGTH,
  RECORD_USER_ID_PREFIX,
  isRecordUserIdFor,
  isValidRoomId,
  makeRecordUserId,
  parseRecordUserId,
} from '../../lib/tic/user-id';

describe('makeRecordUserId', () => {
  it('makes the document example with an explicit suffix', () => {
    expect(makeRecordUserId(100241, 100)).toBe('tic_record_user_100241_100');
    expect(makeRecordUserId(1234, '01')).toBe('tic_record_user_1234_01');
  });

  it('gives a new alphanumeric suffix of 12 characters by default when the room id is short', () => {
    const ids = Array.from({ length: 500 }, () => makeRecordUserId(12));
    for (const id of ids) {
      expect(id).toMatch(/^tic_record_user_12_[A-Za-z0-9]{12}$/);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shortens the default suffix so that the id fits in 32 characters', () => {
    expect(makeRecordUserId(1234)).toMatch(/^tic_record_user_1234_[A-Za-z0-9]{11}$/);
    expect(makeRecordUserId(1234).length).toBe(MAX_TRTC_USER_ID_LENGTH);
  });

  it('keeps within 32 characters for the largest room id, with a 5-character suffix', () => {
    const id = makeRecordUserId(2_147_483_647);
    expect(id).toMatch(/^tic_record_user_2147483647_[A-Za-z0-9]{5}$/);
    expect(id.length).toBe(MAX_TRTC_USER_ID_LENGTH);
  });

  it.each([0, -1, 1.5, 2_147_483_648, Number.NaN])('refuses room id %s', (roomId) => {
    expect(() => makeRecordUserId(roomId)).toThrow(RangeError);
  });

  it.each(['', 'a b', 'a.b', 'ü', 'x/y'])('refuses the suffix %j', (suffix) => {
    expect(() => makeRecordUserId(1234, suffix)).toThrow(RangeError);
  });

  it('accepts _ and - in an explicit suffix', () => {
    expect(makeRecordUserId(1234, 'a_b-c')).toBe('tic_record_user_1234_a_b-c');
  });

  it('refuses a suffix that makes the id longer than 32 characters', () => {
    expect(makeRecordUserId(2_147_483_647, 'abcde')).toHaveLength(32);
    expect(() => makeRecordUserId(2_147_483_647, 'abcdef')).toThrow(RangeError);
  });
});

describe('parseRecordUserId', () => {
  it('reads back what makeRecordUserId made', () => {
    const id = makeRecordUserId(987654);
    const parsed = parseRecordUserId(id);
    expect(parsed?.roomId).toBe(987654);
    expect(id).toBe(`${RECORD_USER_ID_PREFIX}987654_${parsed?.suffix}`);
  });

  it('reads the document examples', () => {
    expect(parseRecordUserId('tic_record_user_1234_test1')).toEqual({ roomId: 1234, suffix: 'test1' });
    expect(parseRecordUserId('tic_record_user_1000135_01')).toEqual({ roomId: 1000135, suffix: '01' });
  });

  it('keeps underscores of the suffix (the room id is digits, so the split is unambiguous)', () => {
    expect(parseRecordUserId('tic_record_user_42_a_b')).toEqual({ roomId: 42, suffix: 'a_b' });
  });

  it.each([
    'tic_record_user_1234',
    'tic_record_user_1234_',
    'tic_record_user__1',
    'tic_record_user_01234_x',
    'tic_record_user_0_x',
    'tic_record_user_2147483648_x',
    'tic_record_user_12a_x',
    'TIC_RECORD_USER_1234_x',
    'ios_test1',
    '',
    `tic_record_user_1_${'a'.repeat(65)}`,
    'tic_record_user_1_a.b',
  ])('refuses %j', (userId) => {
    expect(parseRecordUserId(userId)).toBeUndefined();
  });
});

describe('isRecordUserIdFor', () => {
  it('is true only for a recording id of that room', () => {
    expect(isRecordUserIdFor('tic_record_user_1234_01', 1234)).toBe(true);
    expect(isRecordUserIdFor('tic_record_user_1234_01', 123)).toBe(false);
    expect(isRecordUserIdFor('tic_record_user_12345_01', 1234)).toBe(false);
    expect(isRecordUserIdFor('jepson', 1234)).toBe(false);
  });
});

describe('isValidRoomId', () => {
  it('accepts exactly the positive int32', () => {
    expect(isValidRoomId(1)).toBe(true);
    expect(isValidRoomId(2_147_483_647)).toBe(true);
    expect(isValidRoomId(0)).toBe(false);
    expect(isValidRoomId(2_147_483_648)).toBe(false);
    expect(isValidRoomId(3.5)).toBe(false);
  });
});
