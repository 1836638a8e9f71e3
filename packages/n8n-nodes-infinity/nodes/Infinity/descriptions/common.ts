import type { INodeProperties } from 'n8n-workflow';
import { OPERATORS } from '../filters';

/** A model picked from the organization's models (or named by an expression). */
export function modelLocator(show: Record<string, string[]>): INodeProperties {
  return {
    displayName: 'Model',
    name: 'model',
    type: 'resourceLocator',
    default: { mode: 'list', value: '' },
    required: true,
    description: 'The model (table) of the records',
    modes: [
      { displayName: 'From List', name: 'list', type: 'list', typeOptions: { searchListMethod: 'searchModels', searchable: true } },
      { displayName: 'By Name', name: 'name', type: 'string', placeholder: 'e.g. orders' },
    ],
    displayOptions: { show },
  };
}

/** A field of the chosen model (filter conditions, sort rules). */
export const fieldOption: INodeProperties = {
  displayName: 'Field Name or ID',
  name: 'field',
  type: 'options',
  typeOptions: { loadOptionsMethod: 'getFields', loadOptionsDependsOn: ['model.value'] },
  default: '',
  description: 'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
};

/** The filter builder: conditions on the model's fields with the list API's operators. */
export function filterFields(show: Record<string, string[]>): INodeProperties[] {
  return [
    {
      displayName: 'Filters',
      name: 'filters',
      type: 'fixedCollection',
      typeOptions: { multipleValues: true, sortable: true },
      placeholder: 'Add Condition',
      default: {},
      displayOptions: { show },
      options: [
        {
          displayName: 'Conditions',
          name: 'conditions',
          values: [
            fieldOption,
            {
              displayName: 'Operator',
              name: 'operator',
              type: 'options',
              options: [...OPERATORS],
              default: 'eq',
            },
            {
              displayName: 'Value',
              name: 'value',
              type: 'string',
              default: '',
              description: 'In List and Not In List take comma-separated values; Is Empty takes true (default) or false',
            },
          ],
        },
      ],
    },
    {
      displayName: 'Match',
      name: 'matchType',
      type: 'options',
      options: [
        { name: 'All Conditions', value: 'all' },
        { name: 'Any Condition', value: 'any' },
      ],
      default: 'all',
      displayOptions: { show },
    },
  ];
}
