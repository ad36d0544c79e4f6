import { AppError } from '../../../lib/errors';

/**
 * An error the fake answers with: the real OTS error code, its real HTTP status and message. The server
 * turns it into a protobuf `Error{code, message}` body; in batch operations it becomes a per-row error.
 */
export class OtsError extends AppError {
  readonly status: number;

  constructor(status: number, code: string, message: string) {
    super(code, message, {
      retryable: status >= 500 || code === 'OTSRowOperationConflict',
      details: { status },
    });
    this.status = status;
  }
}

/** The errors the fake produces, with the status and wording of the service's error-code reference. */
export const otsErrors = {
  parameterInvalid: (message: string): OtsError => new OtsError(400, 'OTSParameterInvalid', message),
  tableNotExist: (): OtsError => new OtsError(404, 'OTSObjectNotExist', 'Requested table does not exist.'),
  tableAlreadyExist: (): OtsError =>
    new OtsError(409, 'OTSObjectAlreadyExist', 'Requested table already exists.'),
  conditionCheckFail: (): OtsError => new OtsError(403, 'OTSConditionCheckFail', 'Condition check failed.'),
  quotaExhausted: (message: string): OtsError => new OtsError(403, 'OTSQuotaExhausted', message),
  authFailed: (message: string): OtsError => new OtsError(403, 'OTSAuthFailed', message),
  methodNotAllowed: (): OtsError =>
    new OtsError(
      405,
      'OTSMethodNotAllowed',
      'OTSMethodNotAllowedOnly POST method for requests is supported.',
    ),
  bodyTooLarge: (): OtsError =>
    new OtsError(413, 'OTSRequestBodyTooLarge', 'The size of POST data is too large.'),
  serverBusy: (): OtsError => new OtsError(503, 'OTSServerBusy', 'Server is busy.'),
  rowOperationConflict: (): OtsError =>
    new OtsError(409, 'OTSRowOperationConflict', 'Data is being modified by the other request.'),
  timeout: (): OtsError => new OtsError(503, 'OTSTimeout', 'Operation timeout.'),
  internal: (): OtsError => new OtsError(500, 'OTSInternalServerError', 'Internal server error.'),
} as const;
