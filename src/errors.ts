// Errors shared by every layer: bad input from a user (config, flags, files, requests) is an InputError, which the
// CLI turns into exit 2 and the API into a 400. It lives below metrics/, providers/, store/ and cli/ so that none of
// them imports upward.
export class InputError extends Error {
  override name = 'InputError';
}
