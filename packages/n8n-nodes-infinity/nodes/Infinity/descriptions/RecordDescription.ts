import type { INodeProperties } from 'n8n-workflow';
import { fieldOption, filterFields, modelLocator } from './common';

const show = (...operation: string[]) => ({ resource: ['record'], ...(operation.length ? { operation } : {}) });

export const recordOperations: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: show() },
    options: [
      { name: 'Bulk Create', value: 'bulkCreate', description: 'Create a record per input item in one transaction', action: 'Bulk create records' },
      { name: 'Create', value: 'create', description: 'Create a record', action: 'Create a record' },
      {
        name: 'Create or Update',
        value: 'upsert',
        description: 'Create a new record, or update the current one if it already exists (upsert)',
        action: 'Create or update a record',
      },
      { name: 'Delete', value: 'delete', description: 'Delete a record', action: 'Delete a record' },
      { name: 'Get', value: 'get', description: 'Get a record by ID', action: 'Get a record' },
      { name: 'Get Many', value: 'getAll', description: 'Get many records', action: 'Get many records' },
      { name: 'Similarity Search', value: 'search', description: 'Find the records most similar to a text', action: 'Search records by similarity' },
      { name: 'Update', value: 'update', description: 'Update fields of a record', action: 'Update a record' },
    ],
    default: 'create',
  },
];

const mapper = (mode: 'add' | 'update' | 'upsert', operation: string[]): INodeProperties => ({
  displayName: 'Fields',
  name: 'columns',
  type: 'resourceMapper',
  noDataExpression: true,
  default: { mappingMode: 'defineBelow', value: null },
  required: true,
  typeOptions: {
    loadOptionsDependsOn: ['model.value'],
    resourceMapper: {
      resourceMapperMethod: 'getRecordColumns',
      mode,
      fieldWords: { singular: 'field', plural: 'fields' },
      addAllFields: mode === 'add',
      multiKeyMatch: false,
      supportAutoMap: true,
      ...(mode === 'update' ? { matchingFieldsLabels: { title: 'Record to Update', description: 'The record is found by its ID' } } : {}),
      ...(mode === 'upsert'
        ? {
            matchingFieldsLabels: { title: 'Key Field', description: 'The ID or a unique field: a record with the same value is updated, else one is created' },
          }
        : {}),
    },
  },
  displayOptions: { show: show(...operation) },
});

export const recordFields: INodeProperties[] = [
  modelLocator(show()),
  {
    displayName: 'Record ID',
    name: 'recordId',
    type: 'string',
    default: '',
    required: true,
    description: 'The ID of the record',
    displayOptions: { show: show('get', 'delete') },
  },
  mapper('add', ['create', 'bulkCreate']),
  mapper('update', ['update']),
  mapper('upsert', ['upsert']),

  // ── get many ──
  {
    displayName: 'Return All',
    name: 'returnAll',
    type: 'boolean',
    default: false,
    description: 'Whether to return all results or only up to a given limit',
    displayOptions: { show: show('getAll') },
  },
  {
    displayName: 'Limit',
    name: 'limit',
    type: 'number',
    typeOptions: { minValue: 1 },
    default: 50,
    description: 'Max number of results to return',
    displayOptions: { show: { ...show('getAll'), returnAll: [false] } },
  },
  ...filterFields(show('getAll', 'search')),
  {
    displayName: 'Sort',
    name: 'sort',
    type: 'fixedCollection',
    typeOptions: { multipleValues: true, sortable: true },
    placeholder: 'Add Sort Rule',
    default: {},
    displayOptions: { show: show('getAll') },
    options: [
      {
        displayName: 'Rules',
        name: 'rules',
        values: [
          {
            displayName: 'Direction',
            name: 'direction',
            type: 'options',
            options: [
              { name: 'Ascending', value: 'asc' },
              { name: 'Descending', value: 'desc' },
            ],
            default: 'asc',
          },
          fieldOption,
        ],
      },
    ],
  },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    displayOptions: { show: show('getAll') },
    options: [
      {
        displayName: 'Full-Text Query',
        name: 'q',
        type: 'string',
        default: '',
        description: 'Only records whose text fields match these words',
      },
    ],
  },

  // ── similarity search ──
  {
    displayName: 'Query',
    name: 'query',
    type: 'string',
    default: '',
    required: true,
    description: 'The text to find similar records for',
    displayOptions: { show: show('search') },
  },
  {
    displayName: 'Mode',
    name: 'mode',
    type: 'options',
    options: [
      { name: 'Hybrid', value: 'hybrid', description: 'Vector and keyword ranks fused' },
      { name: 'Keyword', value: 'keyword', description: 'Full-text rank' },
      { name: 'Vector', value: 'vector', description: 'Cosine similarity of embeddings (the model must have embeddings enabled)' },
    ],
    default: 'vector',
    displayOptions: { show: show('search') },
  },
  {
    displayName: 'Limit',
    name: 'topK',
    type: 'number',
    typeOptions: { minValue: 1, maxValue: 256 },
    default: 50,
    description: 'Max number of results to return',
    displayOptions: { show: show('search') },
  },
  {
    displayName: 'Options',
    name: 'searchOptions',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    displayOptions: { show: show('search') },
    options: [
      {
        displayName: 'Minimum Similarity',
        name: 'threshold',
        type: 'number',
        typeOptions: { minValue: -1, maxValue: 1, numberPrecision: 2 },
        default: 0.5,
        description: 'Vector mode: only results with at least this cosine similarity',
      },
    ],
  },
];
