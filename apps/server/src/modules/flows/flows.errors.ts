import { defineErrors } from '../../platform/errors.js';

export const flowErrors = defineErrors({
  FLOW_NOT_FOUND: { status: 404, description: 'No flow with this id in this organization.' },
  FLOW_VERSION_NOT_FOUND: { status: 404, description: 'The flow has no version with this number.' },
  FLOW_INVALID: {
    status: 422,
    description:
      'The flow graph has problems (unknown node types, invalid parameters, edges to unknown nodes or ports, cycles); details lists each with its node or edge.',
  },
  FLOW_TEMPLATE_UNKNOWN: { status: 400, description: 'No flow template with this name.' },
  FLOW_SLUG_TAKEN: { status: 409, description: 'Another published flow uses this slug.' },
  FLOW_PUBLIC_OWNER_ONLY: { status: 403, description: 'Only owners may publish a flow for public (unauthenticated) use.' },
  FLOW_NOT_PUBLISHED: { status: 404, description: 'No published flow with this slug.' },
  WEBHOOK_NOT_FOUND: { status: 404, description: 'No active webhook trigger of this flow matches this path and method.' },
  WEBHOOK_REPLAYED: {
    status: 409,
    description:
      'This signed webhook request was accepted already (same signature within its time window): a replay is refused and starts nothing. Sign each delivery anew.',
  },
  WEBHOOK_UNAUTHORIZED: { status: 401, description: 'The webhook needs credentials (API key, or a valid signature) that the request did not carry.' },
  FLOW_INPUT_INVALID: {
    status: 422,
    description: 'The input of a published flow does not match the JSON Schema of its input node; nothing ran. details lists each problem by input field.',
  },
  EXECUTION_FAILED: {
    status: 502,
    description:
      'A webhook or published flow that answers when finished failed; details has the execution id, and for a caller of the flow’s organization the failing node’s error (anyone else gets a generic message).',
  },
  EXECUTION_NOT_FOUND: { status: 404, description: 'No execution with this id in this organization.' },
  EXECUTION_NOT_CANCELABLE: { status: 409, description: 'The execution has finished already.' },
  EXECUTION_NOT_WAITING: { status: 409, description: 'The execution is not waiting for a resume call (it was resumed already, timed out, or finished).' },
  EXECUTION_NOT_RERUNNABLE: { status: 409, description: 'The execution cannot be re-run from this node (unknown node, or its upstream data was not stored).' },
});
