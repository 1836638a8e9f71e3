import type { ICredentialDataDecryptedObject, ICredentialTestRequest, ICredentialType, IHttpRequestOptions, INodeProperties, Icon } from 'n8n-workflow';

/** Base URL and API key of an Infinity server; the key goes in `X-API-Key` (default) or as a Bearer token. */
export class InfinityApi implements ICredentialType {
  name = 'infinityApi';

  displayName = 'Infinity API';

  icon: Icon = 'file:infinity.svg';

  documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-infinity';

  properties: INodeProperties[] = [
    {
      displayName: 'Base URL',
      name: 'baseUrl',
      type: 'string',
      default: '',
      placeholder: 'e.g. https://infinity.example.com',
      description: 'Address of the Infinity server, without /api/v1',
      required: true,
    },
    {
      displayName: 'API Key',
      name: 'apiKey',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description: 'An API key created on the API keys screen of Infinity (its role bounds what the nodes may do)',
      required: true,
    },
    {
      displayName: 'Send Key As',
      name: 'sendAs',
      type: 'options',
      options: [
        { name: 'Authorization: Bearer', value: 'bearer' },
        { name: 'X-API-Key Header', value: 'header' },
      ],
      default: 'header',
    },
  ];

  async authenticate(credentials: ICredentialDataDecryptedObject, requestOptions: IHttpRequestOptions): Promise<IHttpRequestOptions> {
    const key = String(credentials.apiKey);
    const auth = credentials.sendAs === 'bearer' ? { Authorization: `Bearer ${key}` } : { 'X-API-Key': key };
    return { ...requestOptions, headers: { ...requestOptions.headers, ...auth } };
  }

  test: ICredentialTestRequest = {
    request: {
      baseURL: '={{$credentials.baseUrl}}',
      url: '/api/v1/me',
      method: 'GET',
    },
  };
}
