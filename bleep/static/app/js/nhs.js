// The NHS number check, the same Modulus 11 rule the server applies
// (messaging/validators.py, is_valid_nhs_number). The server checks again.

const WEIGHTS = [10, 9, 8, 7, 6, 5, 4, 3, 2];

export function isValidNhsNumber(value) {
  const digits = value.replaceAll(" ", "");
  if (!/^[0-9]{10}$/.test(digits)) return false;
  const total = WEIGHTS.reduce((sum, weight, i) => sum + Number(digits[i]) * weight, 0);
  let check = 11 - (total % 11);
  if (check === 11) check = 0;
  // A remainder giving 10 means no valid number has these first nine digits.
  return check !== 10 && check === Number(digits[9]);
}
