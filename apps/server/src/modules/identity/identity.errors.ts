import { defineErrors } from '../../platform/errors.js';

export const identityErrors = defineErrors({
  AUTH_PASSWORD_WEAK: {
    status: 422,
    description: 'The password is common or easy to guess (a known password, a pattern, your name or email); details says why, as a field error on "password".',
  },
  AUTH_EMAIL_TAKEN: { status: 409, description: 'An account with this email exists already.' },
  AUTH_INVALID_CREDENTIALS: { status: 401, description: 'Email or password is wrong.' },
  AUTH_LOGIN_THROTTLED: { status: 429, description: 'Too many failed logins for this email or address; wait Retry-After seconds.' },
  AUTH_TOKEN_INVALID: { status: 401, description: 'The access token is malformed, expired or signed with another key.' },
  AUTH_REFRESH_INVALID: { status: 401, description: 'The refresh token is missing, expired or revoked; sign in again.' },
  AUTH_REFRESH_REUSED: { status: 401, description: 'A refresh token was used twice; the whole session was revoked as a precaution. Sign in again.' },
  AUTH_SESSION_ENDED: { status: 401, description: 'The session of this access token was logged out, revoked or has expired; sign in again.' },
  AUTH_API_KEY_INVALID: {
    status: 401,
    description: 'The API key is unknown, revoked or expired, or it is a personal key whose creator is no longer a member of its organization.',
  },
  AUTH_NOT_A_MEMBER: { status: 403, description: 'You are not a member of that organization.' },
  ORG_NOT_FOUND: { status: 404, description: 'No such organization among yours.' },
  ORG_PERSONAL_UNDELETABLE: { status: 409, description: 'A personal organization is deleted with its user, not on its own.' },
  MEMBER_NOT_FOUND: { status: 404, description: 'No member with this user id in this organization.' },
  MEMBER_LAST_OWNER: { status: 409, description: 'An organization must keep at least one owner: make someone else owner first.' },
  MEMBER_ROLE_TOO_HIGH: { status: 403, description: 'You cannot grant or change a role above your own.' },
  INVITATION_NOT_FOUND: { status: 404, description: 'The invitation does not exist, was revoked, or was already accepted.' },
  INVITATION_EXPIRED: { status: 410, description: 'The invitation has expired; ask for a new one.' },
  INVITATION_EMAIL_MISMATCH: { status: 403, description: 'The invitation was sent to another email address than your account’s.' },
  INVITATION_ALREADY_MEMBER: { status: 409, description: 'That person is already a member of this organization.' },
  API_KEY_NOT_FOUND: { status: 404, description: 'No API key with this id in this organization.' },
  API_KEY_ROLE_TOO_HIGH: { status: 403, description: 'An API key cannot have a role above its creator’s.' },
  API_KEY_PERSON_REQUIRED: { status: 403, description: 'A personal API key acts for a person: a service-account key cannot create one.' },
  API_KEY_SESSION_REQUIRED: {
    status: 403,
    description: 'Service-account keys are created by a signed-in owner or admin, not with an API key (a key could otherwise mint access that outlives it).',
  },
});
