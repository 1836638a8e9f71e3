import type { NodeTypeInfo } from '@infinity/contracts';
import { type NodeDefinition, describeNode } from '@infinity/node-sdk';
import type { JsSandbox } from '../../platform/sandbox/js-sandbox.js';
import { aiNodes } from './ai.nodes.js';
import { createCodeNode } from './code.node.js';
import { coreNodes } from './core.nodes.js';
import { dataNodes } from './data.nodes.js';
import { httpNode } from './http.node.js';
import { triggerNodes } from './trigger.nodes.js';

/** Every node type the server knows, by type id. Plugins would register here too. */
export class NodeRegistry {
  private readonly byType = new Map<string, NodeDefinition>();

  constructor(defs: NodeDefinition[]) {
    for (const d of defs) {
      if (this.byType.has(d.type)) throw new Error(`node type ${d.type} is registered twice`);
      this.byType.set(d.type, d);
    }
  }

  get = (type: string): NodeDefinition | undefined => this.byType.get(type);

  all(): NodeDefinition[] {
    return [...this.byType.values()];
  }

  describe(): NodeTypeInfo[] {
    return this.all().map(describeNode);
  }
}

/** The built-in nodes; those that need a shared service (the code sandbox) get it here. */
export function builtinNodes(deps: { sandbox: JsSandbox }): NodeDefinition[] {
  return [...triggerNodes, ...coreNodes, createCodeNode(deps.sandbox), httpNode, ...dataNodes, ...aiNodes] as NodeDefinition[];
}
export { triggerNodes, coreNodes, dataNodes, httpNode, aiNodes };
