// Expected failures of an API request, as values the router turns into `ApiError` documents: an
// HTTP status, a stable code and a message for the user. Anything else thrown is a bug: the router
// answers a generic 500 and logs it on the server's terminal, never in the response.
import type { ApiError } from '../../ui/api.js';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (message: string): HttpError => new HttpError(404, 'E_NOT_FOUND', message);
export const badRequest = (message: string): HttpError => new HttpError(400, 'E_BAD_REQUEST', message);

export function apiError(code: string, message: string): ApiError {
  return { format: 1, error: { code, message } };
}
