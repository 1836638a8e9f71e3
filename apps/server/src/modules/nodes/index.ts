import { type NodeDefinition, describeNode } from '@infinity/node-sdk';
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

  describe() {
    return this.all().map(describeNode);
  }
}

export const builtinNodes: NodeDefinition[] = [...triggerNodes, ...coreNodes, httpNode, ...dataNodes] as NodeDefinition[];
export { triggerNodes, coreNodes, dataNodes, httpNode };
