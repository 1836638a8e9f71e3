import type { INodeProperties } from 'n8n-workflow';

export const actionOperations: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['action'] } },
    options: [{ name: 'Run', value: 'run', description: 'Run an action in one transaction', action: 'Run an action' }],
    default: 'run',
  },
];

export const actionFields: INodeProperties[] = [
  {
    displayName: 'Action',
    name: 'action',
    type: 'resourceLocator',
    default: { mode: 'list', value: '' },
    required: true,
    description: 'The action to run',
    modes: [{ displayName: 'From List', name: 'list', type: 'list', typeOptions: { searchListMethod: 'searchActions', searchable: true } }],
    displayOptions: { show: { resource: ['action'] } },
  },
  {
    displayName: 'Parameters',
    name: 'parameters',
    type: 'resourceMapper',
    noDataExpression: true,
    default: { mappingMode: 'defineBelow', value: null },
    required: true,
    typeOptions: {
      loadOptionsDependsOn: ['action.value'],
      resourceMapper: {
        resourceMapperMethod: 'getActionColumns',
        mode: 'add',
        fieldWords: { singular: 'parameter', plural: 'parameters' },
        addAllFields: true,
        multiKeyMatch: false,
        supportAutoMap: true,
      },
    },
    displayOptions: { show: { resource: ['action'] } },
  },
];
