import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { actionFields, actionOperations } from './descriptions/ActionDescription';
import { flowFields, flowOperations } from './descriptions/FlowDescription';
import { recordFields, recordOperations } from './descriptions/RecordDescription';
import { getActionColumns, getFields, getRecordColumns, searchActions, searchFlows, searchModels } from './methods';
import { Run } from './operations';
import { errorItem } from './transport';

/** Records, actions and flows of an Infinity server. */
export class Infinity implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Infinity',
    name: 'infinity',
    icon: 'file:infinity.svg',
    group: ['transform'],
    version: 1,
    subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
    description: 'Read and write Infinity records, run actions and flows',
    defaults: { name: 'Infinity' },
    inputs: ['main'],
    outputs: ['main'],
    usableAsTool: true,
    credentials: [{ name: 'infinityApi', required: true }],
    properties: [
      {
        displayName: 'Resource',
        name: 'resource',
        type: 'options',
        noDataExpression: true,
        options: [
          { name: 'Action', value: 'action' },
          { name: 'Flow', value: 'flow' },
          { name: 'Record', value: 'record' },
        ],
        default: 'record',
      },
      ...recordOperations,
      ...recordFields,
      ...actionOperations,
      ...actionFields,
      ...flowOperations,
      ...flowFields,
    ],
  };

  methods = {
    listSearch: { searchModels, searchActions, searchFlows },
    loadOptions: { getFields },
    resourceMapping: { getRecordColumns, getActionColumns },
  };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    const items = this.getInputData();
    const resource = this.getNodeParameter('resource', 0) as string;
    const operation = this.getNodeParameter('operation', 0) as string;
    const run = new Run(this);
    if (resource === 'record' && operation === 'bulkCreate') return [await run.bulkCreate(items)];

    const out: INodeExecutionData[] = [];
    for (let i = 0; i < items.length; i++) {
      try {
        const results = resource === 'action' ? await run.action(i) : resource === 'flow' ? await run.flow(i) : await run.record(operation, i);
        out.push(...results.map((json) => ({ json, pairedItem: { item: i } })));
      } catch (error) {
        if (this.continueOnFail()) {
          out.push({ json: errorItem(error), pairedItem: { item: i } });
          continue;
        }
        throw error;
      }
    }
    return [out];
  }
}
