import '@xyflow/react/dist/style.css';
import { Background, Controls, type Edge, type EdgeChange, MiniMap, type NodeChange, ReactFlow, ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type DragEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { Button } from '../../../components/ui';
import { ApiError, api, isConflict } from '../../../lib/api';
import { useAuth } from '../../../lib/auth';
import { useToast } from '../../../lib/toast';
import { useDark } from '../../../lib/theme';
import { useFollowRun } from './follow-run';
import { type History, record, redo, replace, startHistory, undo } from './history';
import { Connections } from './Connections';
import { Inspector } from './Inspector';
import { overlapping, tidy } from './layout';
import { type Execution, PublishPanel, RunPanel, SettingsPanel, VersionsPanel } from './panels';
import { connectionProblem, type Connection } from './rules';
import { type RefOptions } from './schema-form';
import { StepNode, type StepNodeType } from './StepNode';
import type { Flow, FlowEdge, FlowNode, Graph, GraphProblem, NodeType } from './types';
import { modelOptions, useActionOptions, useAgentOptions, useFlowOptions, useModels, useSecrets } from '../../../lib/refs';

const nodeTypes = { step: StepNode };
const CATEGORY_ORDER = ['trigger', 'flow', 'logic', 'transform', 'data', 'http', 'ai', 'integration'];
const DRAG_MIME = 'application/x-infinity-node';

/** The canvas editor of one flow (route /flows/:id). */
export function FlowEditor() {
  const { id = '' } = useParams();
  // NB: the editor starts from the flow as the server has it now, never from a cached copy: a
  // copy from an earlier visit, saved by the first drag, would overwrite everything since (and
  // the saves of others). Refetched on every open; the editor waits for that answer.
  const flow = useQuery({
    queryKey: ['flow', id],
    queryFn: () => api<{ data: Flow }>('GET', `/flows/${id}`).then((r) => r.data),
    staleTime: 0,
    refetchOnMount: 'always',
    refetchOnWindowFocus: false,
  });
  const types = useQuery({ queryKey: ['node-types'], queryFn: () => api<{ data: NodeType[] }>('GET', '/node-types').then((r) => r.data), staleTime: Infinity });
  // Bumped by "Reload" after a conflict: the editor starts again from the newest version.
  const [generation, setGeneration] = useState(0);
  const error = flow.error ?? types.error;
  if (error)
    return (
      <p role="alert" className="p-6">
        {error.message}
      </p>
    );
  if (!flow.data || !flow.isFetchedAfterMount || !types.data)
    return (
      <p className="p-6" aria-busy="true">
        Loading the flow…
      </p>
    );
  const reload = () => void flow.refetch().then(() => setGeneration((g) => g + 1));
  return (
    <ReactFlowProvider>
      <Editor key={`${flow.data.id}:${generation}`} initial={flow.data} types={types.data} onReload={reload} />
    </ReactFlowProvider>
  );
}

/** Names of the things a parameter can point at, for the form's pickers (secrets only for editors). */
function useRefOptions(): RefOptions {
  const { canEdit } = useAuth();
  const secrets = useSecrets(canEdit).data;
  const models = useModels().data;
  const out: RefOptions = {
    secret: secrets?.map((s) => ({ value: s.id, label: `${s.name} (${s.provider})` })),
    model: models && modelOptions(models),
    flow: useFlowOptions().data,
    agent: useAgentOptions().data,
    action: useActionOptions().data,
  };
  for (const k of Object.keys(out) as (keyof RefOptions)[]) if (!out[k]) delete out[k];
  return out;
}

type SaveState = 'saved' | 'unsaved' | 'saving' | 'invalid' | 'failed' | 'conflict';

/** What a save sends that can change, as one comparable string (is there anything to save?). */
const snapshotOf = (name: string, graph: Graph, settings: Flow['settings']) =>
  JSON.stringify({ name: name.trim() || 'Untitled flow', nodes: graph.nodes, edges: graph.edges, settings });

function Editor({ initial, types, onReload }: { initial: Flow; types: NodeType[]; onReload: () => void }) {
  const { canEdit, atLeast } = useAuth();
  const readOnly = !canEdit;
  const toast = useToast();
  const client = useQueryClient();
  const rf = useReactFlow();
  const refs = useRefOptions();
  const dark = useDark();
  const typeOf = useCallback((t: string) => types.find((d) => d.type === t), [types]);

  const [flow, setFlowState] = useState(initial);
  // The version this editor's graph is based on, sent as If-Match with every save. A ref, so a
  // save that starts while another is on its way sends the version that one answers.
  const known = useRef(initial.version);
  const setFlow = useCallback(
    (next: Flow | ((f: Flow) => Flow)) =>
      setFlowState((f) => {
        const n = typeof next === 'function' ? next(f) : next;
        known.current = n.version;
        return n;
      }),
    [],
  );
  // Set when a save was refused because someone else saved a newer version: nothing is saved
  // until the user reloads (their changes) or overwrites (ours, deliberately).
  const [conflict, setConflict] = useState<{ version: number } | null>(null);
  const inFlight = useRef<Promise<boolean> | null>(null);
  // A flow written through the API may have no positions: lay it out once for display (saved with the next edit).
  const [hist, setHist] = useState<History<Graph>>(() => {
    const g = { nodes: initial.nodes, edges: initial.edges };
    return startHistory(overlapping(g) ? tidy(g) : g);
  });
  const graph = hist.present;
  const [name, setName] = useState(initial.name);
  const [selected, setSelected] = useState<string | null>(null);
  const [panel, setPanel] = useState<'node' | 'run' | 'versions' | 'publish' | 'settings'>('run');
  const [problems, setProblems] = useState<GraphProblem[]>([]);
  const [saveState, setSaveState] = useState<SaveState>('saved');
  // The run being watched: node states and log lines as they happen (realtime), then its trace.
  const { execution, following, follow } = useFollowRun(graph);
  const [starting, setStarting] = useState(false);
  const running = starting || following;
  const saved = useRef(snapshotOf(initial.name, graph, initial.settings));
  const dragBase = useRef<Graph | null>(null);
  // Measured node sizes (React Flow reports them; a node without one stays hidden).
  const [sizes, setSizes] = useState<Record<string, { width: number; height: number }>>({});
  const clipboard = useRef<FlowNode | null>(null);

  const edit = useCallback((next: Graph | ((g: Graph) => Graph)) => setHist((h) => record(h, typeof next === 'function' ? next(h.present) : next)), []);

  // ── saving: every change is saved (a new version) a moment after the last edit ──
  const save = useCallback(
    async (overwrite?: number): Promise<boolean> => {
      // One save at a time: the next one is based on the version the previous one made.
      while (inFlight.current) await inFlight.current.catch(() => false);
      const body = { name: name.trim() || 'Untitled flow', description: flow.description, nodes: graph.nodes, edges: graph.edges, settings: flow.settings };
      // Overwriting after a conflict saves even an unchanged graph: it must become the current one.
      if (overwrite === undefined && snapshotOf(name, graph, flow.settings) === saved.current) return true;
      setSaveState('saving');
      const attempt = api<{ data: Flow }>('PUT', `/flows/${flow.id}`, body, { ifMatch: overwrite ?? known.current }).then((r) => {
        // The server fills in setting defaults: remember what it stored, so that is not a change.
        saved.current = snapshotOf(name, graph, r.data.settings);
        setFlow(r.data);
        client.setQueryData(['flow', flow.id], r.data);
        setConflict(null);
        setProblems([]);
        setSaveState('saved');
        void client.invalidateQueries({ queryKey: ['flows'] });
        return true;
      });
      inFlight.current = attempt;
      try {
        return await attempt;
      } catch (e) {
        if (isConflict(e)) {
          setConflict({ version: Number(e.details.currentVersion) });
          setSaveState('conflict');
        } else if (e instanceof ApiError && e.code === 'FLOW_INVALID') {
          setProblems(Array.isArray(e.details) ? (e.details as GraphProblem[]) : []);
          setSaveState('invalid');
        } else {
          setSaveState('failed');
          toast('error', e instanceof ApiError ? e.message : 'Saving failed.');
        }
        return false;
      } finally {
        if (inFlight.current === attempt) inFlight.current = null;
      }
    },
    [client, flow, graph, name, setFlow, toast],
  );

  useEffect(() => {
    if (readOnly || conflict) return;
    if (snapshotOf(name, graph, flow.settings) === saved.current) {
      // Back to what is saved (an undo): nothing to save, and the old problems no longer apply.
      setSaveState('saved');
      setProblems([]);
      return;
    }
    setSaveState((s) => (s === 'invalid' ? s : 'unsaved'));
    const t = setTimeout(() => void save(), 800);
    return () => clearTimeout(t);
  }, [graph, name, flow.settings, readOnly, save, conflict]);

  useEffect(() => {
    const warn = (e: BeforeUnloadEvent) => {
      if (saveState !== 'saved') e.preventDefault();
    };
    addEventListener('beforeunload', warn);
    return () => removeEventListener('beforeunload', warn);
  }, [saveState]);

  // ── canvas model ──
  const statusOf = useMemo(() => {
    const m = new Map<string, string>();
    for (const n of execution?.nodes ?? []) m.set(n.nodeId, n.status);
    return m;
  }, [execution]);
  const problemsOf = useMemo(() => {
    const m = new Map<string, string[]>();
    for (const p of problems) if (p.nodeId) m.set(p.nodeId, [...(m.get(p.nodeId) ?? []), p.message]);
    return m;
  }, [problems]);
  const rfNodes: StepNodeType[] = useMemo(
    () =>
      graph.nodes.map((n) => ({
        id: n.id,
        type: 'step',
        position: n.position,
        selected: n.id === selected,
        ...(sizes[n.id] ? { measured: sizes[n.id] } : {}),
        data: { node: n, def: typeOf(n.type), status: statusOf.get(n.id), problems: problemsOf.get(n.id) ?? [] },
      })),
    [graph.nodes, selected, sizes, typeOf, statusOf, problemsOf],
  );
  const badEdges = useMemo(() => new Set(problems.map((p) => p.edgeId).filter(Boolean)), [problems]);
  const rfEdges: Edge[] = useMemo(
    () =>
      graph.edges.map((e) => ({
        id: e.id,
        source: e.source,
        target: e.target,
        sourceHandle: e.sourceHandle,
        targetHandle: e.targetHandle,
        animated: statusOf.get(e.source) === 'succeeded' && statusOf.has(e.target),
        style: badEdges.has(e.id)
          ? { stroke: '#dc2626', strokeWidth: 2 }
          : e.sourceHandle === 'error'
            ? { stroke: '#ef4444', strokeDasharray: '4 3' }
            : undefined,
        ...(e.sourceHandle === 'error' || (e.sourceHandle !== 'main' && e.sourceHandle) ? { label: e.sourceHandle } : {}),
      })),
    [graph.edges, statusOf, badEdges],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<StepNodeType>[]) => {
      const measured = changes.flatMap((c) => (c.type === 'dimensions' && c.dimensions ? [[c.id, c.dimensions] as const] : []));
      if (measured.length) setSizes((s) => ({ ...s, ...Object.fromEntries(measured) }));
      for (const c of changes) {
        if (c.type === 'select') setSelected((s) => (c.selected ? c.id : s === c.id ? null : s));
        if (c.type === 'select' && c.selected) setPanel('node');
      }
      const moves = changes.filter((c) => c.type === 'position' && c.position);
      if (moves.length && !readOnly) {
        setHist((h) =>
          replace(h, {
            ...h.present,
            nodes: h.present.nodes.map((n) => {
              const m = moves.find((c) => c.type === 'position' && c.id === n.id);
              return m && m.type === 'position' && m.position ? { ...n, position: { x: Math.round(m.position.x), y: Math.round(m.position.y) } } : n;
            }),
          }),
        );
      }
      const removed = new Set(changes.filter((c) => c.type === 'remove').map((c) => c.id));
      if (removed.size && !readOnly)
        edit((g) => ({ nodes: g.nodes.filter((n) => !removed.has(n.id)), edges: g.edges.filter((e) => !removed.has(e.source) && !removed.has(e.target)) }));
    },
    [edit, readOnly],
  );
  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      const removed = new Set(changes.filter((c) => c.type === 'remove').map((c) => c.id));
      if (removed.size && !readOnly) edit((g) => ({ ...g, edges: g.edges.filter((e) => !removed.has(e.id)) }));
    },
    [edit, readOnly],
  );
  const isValidConnection = useCallback((c: Connection | Edge) => connectionProblem(c as Connection, graph, typeOf) === null, [graph, typeOf]);
  /** Adds an edge if the rules allow it; the reason otherwise. */
  const connect = useCallback(
    (c: Connection): string | null => {
      const problem = connectionProblem(c, graph, typeOf);
      if (problem) return problem;
      const src = graph.nodes.find((n) => n.id === c.source)!;
      const dst = graph.nodes.find((n) => n.id === c.target)!;
      const sourceHandle = c.sourceHandle ?? typeOf(src.type)?.outputs[0] ?? 'main';
      const targetHandle = c.targetHandle ?? typeOf(dst.type)?.inputs[0] ?? 'main';
      const edge: FlowEdge = {
        id: uniqueId(
          `e_${src.id}_${sourceHandle}_${dst.id}`.slice(0, 56),
          graph.edges.map((e) => e.id),
        ),
        source: src.id,
        sourceHandle,
        target: dst.id,
        targetHandle,
      };
      edit((g) => ({ ...g, edges: [...g.edges, edge] }));
      return null;
    },
    [edit, graph, typeOf],
  );
  const onConnect = useCallback(
    (c: Connection) => {
      const problem = connect(c);
      if (problem) toast('error', problem);
    },
    [connect, toast],
  );
  const onConnectEnd = useCallback(
    (
      _: MouseEvent | TouchEvent,
      state: {
        isValid: boolean | null;
        fromNode: { id: string } | null;
        fromHandle: { id?: string | null; type: string } | null;
        toNode: { id: string } | null;
        toHandle: { id?: string | null } | null;
      },
    ) => {
      if (state.isValid !== false || !state.fromNode || !state.toNode) return;
      const fromSource = state.fromHandle?.type === 'source';
      const c: Connection = fromSource
        ? { source: state.fromNode.id, sourceHandle: state.fromHandle?.id ?? null, target: state.toNode.id, targetHandle: state.toHandle?.id ?? null }
        : { source: state.toNode.id, sourceHandle: state.toHandle?.id ?? null, target: state.fromNode.id, targetHandle: state.fromHandle?.id ?? null };
      const problem = connectionProblem(c, graph, typeOf);
      if (problem) toast('error', problem);
    },
    [graph, toast, typeOf],
  );

  const addNode = useCallback(
    (def: NodeType, position?: { x: number; y: number }) => {
      const at = position ?? nextFreeSpot(graph.nodes);
      const node: FlowNode = {
        id: uniqueId(
          def.type
            .split('.')
            .pop()!
            .replace(/[^A-Za-z0-9_]/g, '_'),
          graph.nodes.map((n) => n.id),
        ),
        type: def.type,
        typeVersion: def.version,
        name: uniqueName(
          def.title,
          graph.nodes.map((n) => n.name),
        ),
        position: at,
        params: {},
      };
      edit((g) => ({ ...g, nodes: [...g.nodes, node] }));
      setSelected(node.id);
      setPanel('node');
    },
    [edit, graph.nodes],
  );
  const onDrop = useCallback(
    (e: DragEvent) => {
      e.preventDefault();
      const def = typeOf(e.dataTransfer.getData(DRAG_MIME));
      if (!def || readOnly) return;
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addNode(def, { x: Math.round(p.x), y: Math.round(p.y) });
    },
    [addNode, readOnly, rf, typeOf],
  );

  // ── keyboard: undo/redo, copy/paste, save ──
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
      const mod = e.ctrlKey || e.metaKey;
      if (!mod || readOnly) return;
      const k = e.key.toLowerCase();
      if (k === 'z' && !e.shiftKey) setHist(undo);
      else if ((k === 'z' && e.shiftKey) || k === 'y') setHist(redo);
      else if (k === 's') void save();
      else if (k === 'c' && selected) clipboard.current = graph.nodes.find((n) => n.id === selected) ?? null;
      else if (k === 'v' && clipboard.current) {
        const src = clipboard.current;
        const copy: FlowNode = {
          ...structuredClone(src),
          id: uniqueId(
            src.id,
            graph.nodes.map((n) => n.id),
          ),
          name: uniqueName(
            src.name,
            graph.nodes.map((n) => n.name),
          ),
          position: { x: src.position.x + 40, y: src.position.y + 60 },
        };
        edit((g) => ({ ...g, nodes: [...g.nodes, copy] }));
        setSelected(copy.id);
      } else return;
      e.preventDefault();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [edit, graph.nodes, readOnly, save, selected]);

  const toggleActive = useCallback(
    async (active: boolean) => {
      try {
        const r = await api<{ data: Flow }>('PATCH', `/flows/${flow.id}`, { active }, { ifMatch: known.current });
        setFlow((f) => ({ ...f, active: r.data.active }));
        toast('success', active ? 'Active: its triggers now fire.' : 'Paused: its triggers no longer fire.');
        void client.invalidateQueries({ queryKey: ['flows'] });
      } catch (e) {
        if (isConflict(e)) {
          setConflict({ version: Number(e.details.currentVersion) });
          setSaveState('conflict');
        } else toast('error', e instanceof ApiError ? e.message : 'The change failed.');
      }
    },
    [client, flow.id, setFlow, toast],
  );

  // ── running: save, start, and follow the execution (useFollowRun) until it finishes ──
  const run = useCallback(
    async (input: unknown) => {
      setStarting(true);
      setPanel('run');
      try {
        if (!readOnly && !(await save()))
          return toast('error', conflict ? 'Reload or overwrite the flow before running it.' : 'Fix the problems marked on the nodes before running.');
        follow((await api<{ data: Execution }>('POST', `/flows/${flow.id}/run`, { input })).data);
      } catch (e) {
        toast('error', e instanceof ApiError ? e.message : 'The run failed to start.');
      } finally {
        setStarting(false);
      }
    },
    [conflict, flow.id, follow, readOnly, save, toast],
  );

  const node = graph.nodes.find((n) => n.id === selected);
  const palette = useMemo(
    () => CATEGORY_ORDER.map((c) => ({ category: c, items: types.filter((t) => t.category === c) })).filter((g) => g.items.length),
    [types],
  );
  const stateText: Record<SaveState, string> = {
    saved: `Saved · v${flow.version}`,
    unsaved: 'Unsaved changes…',
    saving: 'Saving…',
    invalid: `Not saved: ${problems.length} problem(s)`,
    failed: 'Not saved',
    conflict: 'Not saved: changed elsewhere',
  };

  return (
    <div className="flex h-[calc(100vh-0px)] flex-col">
      <header className="flex flex-wrap items-center gap-2 border-b border-zinc-200 px-3 py-2 dark:border-zinc-800">
        <Link to="/flows" className="text-sm text-indigo-700 underline dark:text-indigo-300">
          Flows
        </Link>
        <span aria-hidden="true">/</span>
        <label className="sr-only" htmlFor="flow-name">
          Flow name
        </label>
        <input
          id="flow-name"
          className="min-w-0 flex-1 rounded border border-transparent bg-transparent px-1 text-lg font-semibold hover:border-zinc-300 dark:hover:border-zinc-700"
          value={name}
          disabled={readOnly}
          onChange={(e) => setName(e.target.value)}
        />
        <span
          role="status"
          data-testid="save-state"
          className={`text-xs ${saveState === 'invalid' || saveState === 'failed' || saveState === 'conflict' ? 'text-red-700 dark:text-red-400' : 'text-zinc-600 dark:text-zinc-400'}`}
        >
          {readOnly ? `Read only · v${flow.version}` : stateText[saveState]}
        </span>
        {!readOnly && (
          <>
            <Button
              variant="ghost"
              title="Arrange the nodes left to right"
              onClick={() => (edit((g) => tidy(g)), setTimeout(() => void rf.fitView({ maxZoom: 1.2 }), 50))}
            >
              Tidy up
            </Button>
            <Button variant="ghost" aria-label="Undo" title="Undo (Ctrl+Z)" disabled={!hist.past.length} onClick={() => setHist(undo)}>
              ↶
            </Button>
            <Button variant="ghost" aria-label="Redo" title="Redo (Ctrl+Shift+Z)" disabled={!hist.future.length} onClick={() => setHist(redo)}>
              ↷
            </Button>
          </>
        )}
        <Button variant={panel === 'run' ? 'primary' : 'secondary'} onClick={() => setPanel('run')}>
          Run
        </Button>
        <Button variant={panel === 'versions' ? 'primary' : 'secondary'} onClick={() => setPanel('versions')}>
          Versions
        </Button>
        <Button variant={panel === 'publish' ? 'primary' : 'secondary'} onClick={() => setPanel('publish')}>
          Publish
        </Button>
        <Button variant={panel === 'settings' ? 'primary' : 'secondary'} onClick={() => setPanel('settings')}>
          Settings
        </Button>
        {!readOnly && (
          <label className="flex items-center gap-1 text-sm" title="An active flow's triggers (webhook, schedule, record events) fire">
            <input type="checkbox" checked={flow.active} onChange={(e) => void toggleActive(e.target.checked)} />
            Active
          </label>
        )}
      </header>
      {conflict && (
        <div
          role="alert"
          data-testid="save-conflict"
          className="flex flex-wrap items-center gap-3 border-b border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100"
        >
          <p className="min-w-0 flex-1">
            <strong>This flow was changed by someone else</strong> (it is now at version {conflict.version}; you started from version {flow.version}). Your
            changes are not saved. Reload to see their changes (yours are dropped), or overwrite theirs with yours.
          </p>
          <Button variant="primary" onClick={onReload}>
            Reload their version
          </Button>
          <Button variant="secondary" onClick={() => void save(conflict.version)}>
            Overwrite with mine
          </Button>
        </div>
      )}
      <div className="flex min-h-0 flex-1">
        {!readOnly && (
          <aside aria-label="Node palette" className="w-52 shrink-0 overflow-y-auto border-r border-zinc-200 p-2 text-sm dark:border-zinc-800">
            <p className="mb-2 text-xs text-zinc-600 dark:text-zinc-400">Drag onto the canvas, or press Enter to add.</p>
            {palette.map((g) => (
              <div key={g.category} className="mb-3">
                <h2 className="mb-1 text-xs font-semibold uppercase text-zinc-600 dark:text-zinc-400">{g.category}</h2>
                <ul className="flex flex-col gap-0.5">
                  {g.items.map((t) => (
                    <li key={t.type}>
                      <button
                        type="button"
                        draggable
                        data-testid={`palette-${t.type}`}
                        title={t.description}
                        className="w-full cursor-grab rounded px-2 py-1 text-left hover:bg-zinc-100 dark:hover:bg-zinc-800"
                        onDragStart={(e) => {
                          e.dataTransfer.setData(DRAG_MIME, t.type);
                          e.dataTransfer.effectAllowed = 'move';
                        }}
                        onClick={() => addNode(t)}
                      >
                        {t.title}
                      </button>
                    </li>
                  ))}
                </ul>
              </div>
            ))}
          </aside>
        )}
        <div className="min-w-0 flex-1" onDragOver={(e) => ((e.dataTransfer.dropEffect = 'move'), e.preventDefault())} onDrop={onDrop} data-testid="canvas">
          <ReactFlow<StepNodeType, Edge>
            nodes={rfNodes}
            edges={rfEdges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onConnectEnd={onConnectEnd}
            isValidConnection={isValidConnection}
            onNodeDragStart={() => (dragBase.current = graph)}
            onNodeDragStop={() => {
              const base = dragBase.current;
              dragBase.current = null;
              if (base && base !== graph) setHist((h) => ({ past: [...h.past, base].slice(-100), present: h.present, future: [] }));
            }}
            onNodeClick={(_, n) => (setSelected(n.id), setPanel('node'))}
            onPaneClick={() => setSelected(null)}
            nodesDraggable={!readOnly}
            nodesConnectable={!readOnly}
            deleteKeyCode={readOnly ? null : ['Delete', 'Backspace']}
            colorMode={dark ? 'dark' : 'light'}
            fitView
            fitViewOptions={{ maxZoom: 1.2 }}
            proOptions={{ hideAttribution: true }}
          >
            <Background />
            <Controls />
            <MiniMap pannable zoomable ariaLabel="Overview of the flow" />
          </ReactFlow>
        </div>
        <aside aria-label="Details" className="w-96 shrink-0 overflow-y-auto border-l border-zinc-200 p-3 dark:border-zinc-800">
          {panel === 'node' && node && (
            <Inspector
              key={node.id}
              node={node}
              def={typeOf(node.type)}
              problems={problems.filter((p) => p.nodeId === node.id)}
              refs={refs}
              run={execution?.nodes.filter((r) => r.nodeId === node.id).at(-1)}
              readOnly={readOnly}
              onChange={(n) => edit((g) => ({ ...g, nodes: g.nodes.map((x) => (x.id === n.id ? n : x)) }))}
              connections={
                <Connections
                  nodeId={node.id}
                  graph={graph}
                  typeOf={typeOf}
                  readOnly={readOnly}
                  onConnect={(e) => connect(e)}
                  onRemove={(edgeId) => edit((g) => ({ ...g, edges: g.edges.filter((x) => x.id !== edgeId) }))}
                />
              }
              onDelete={() => {
                edit((g) => ({ nodes: g.nodes.filter((x) => x.id !== node.id), edges: g.edges.filter((e) => e.source !== node.id && e.target !== node.id) }));
                setSelected(null);
              }}
            />
          )}
          {panel === 'node' && !node && <p className="text-sm text-zinc-600 dark:text-zinc-400">Select a node to edit it.</p>}
          {panel === 'run' && <RunPanel execution={execution} running={running} onRun={(input) => void run(input)} />}
          {panel === 'versions' && (
            <VersionsPanel
              flow={flow}
              readOnly={readOnly}
              onRestored={(f) => {
                saved.current = snapshotOf(f.name, f, f.settings);
                setFlow(f);
                setName(f.name);
                edit({ nodes: f.nodes, edges: f.edges });
                toast('success', `Restored as v${f.version}.`);
              }}
            />
          )}
          {panel === 'settings' && (
            <SettingsPanel flow={flow} readOnly={readOnly} flows={refs.flow ?? []} onChange={(settings) => setFlow((f) => ({ ...f, settings }))} />
          )}
          {panel === 'publish' && <PublishPanel flow={flow} isOwner={atLeast('owner')} readOnly={readOnly} onChanged={(f) => setFlow(f)} />}
          {problems.length > 0 && (
            <section aria-label="Problems" className="mt-4 rounded-md border border-red-300 p-2 text-xs text-red-800 dark:border-red-800 dark:text-red-300">
              <h2 className="font-semibold">Problems</h2>
              <ul className="list-disc pl-4">
                {problems.map((p, i) => (
                  <li key={i}>
                    {p.nodeId ? (
                      <button type="button" className="underline" onClick={() => (setSelected(p.nodeId!), setPanel('node'))}>
                        {p.message}
                      </button>
                    ) : (
                      p.message
                    )}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </aside>
      </div>
    </div>
  );
}

function uniqueId(base: string, taken: string[]): string {
  const set = new Set(taken);
  if (!set.has(base)) return base;
  for (let i = 2; ; i++) if (!set.has(`${base}_${i}`)) return `${base}_${i}`;
}

function uniqueName(base: string, taken: string[]): string {
  const set = new Set(taken);
  const stem = base.replace(/ \d+$/, '');
  if (!set.has(stem)) return stem;
  for (let i = 2; ; i++) if (!set.has(`${stem} ${i}`)) return `${stem} ${i}`;
}

/** Right of the rightmost node, so a node added by keyboard is never hidden under another. */
function nextFreeSpot(nodes: FlowNode[]): { x: number; y: number } {
  if (!nodes.length) return { x: 0, y: 0 };
  const right = nodes.reduce((a, b) => (b.position.x > a.position.x ? b : a));
  return { x: right.position.x + 260, y: right.position.y };
}
