import { type ComponentType, lazy, Suspense, type ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useSearchParams } from 'react-router';
import { useAuth } from '../lib/auth';
import { Shell } from './Shell';
import { AuthForm } from '../features/auth/AuthForm';

// One chunk per screen: the first page loads only what it shows. (The import() stays literal at
// each call so the bundler can split it.)
const screen = <K extends string>(load: () => Promise<Record<K, ComponentType>>, name: K) => lazy(() => load().then((m) => ({ default: m[name] })));
const Models = screen(() => import('../features/data/Models'), 'Models');
const NewModel = screen(() => import('../features/data/NewModel'), 'NewModel');
const Diagram = screen(() => import('../features/data/Diagram'), 'Diagram');
const Records = screen(() => import('../features/data/Records'), 'Records');
const Usage = screen(() => import('../features/usage/Usage'), 'Usage');
const ApiKeys = screen(() => import('../features/keys/ApiKeys'), 'ApiKeys');
const Webhooks = screen(() => import('../features/webhooks/Webhooks'), 'Webhooks');
const Members = screen(() => import('../features/members/Members'), 'Members');
const Vault = screen(() => import('../features/vault/Vault'), 'Vault');
const AcceptInvite = screen(() => import('../features/auth/AcceptInvite'), 'AcceptInvite');
const Dashboard = screen(() => import('../features/dashboard/Dashboard'), 'Dashboard');
const Logs = screen(() => import('../features/logs/Logs'), 'Logs');
const Flows = screen(() => import('../features/flows/Flows'), 'Flows');
const FlowEditor = screen(() => import('../features/flows/editor/FlowEditor'), 'FlowEditor');
const Executions = screen(() => import('../features/flows/Executions'), 'Executions');
const Agents = screen(() => import('../features/agents/Agents'), 'Agents');
const AgentEditor = screen(() => import('../features/agents/AgentEditor'), 'AgentEditor');
const Actions = screen(() => import('../features/actions/Actions'), 'Actions');
const ActionEditor = screen(() => import('../features/actions/Actions'), 'ActionEditor');
const Settings = screen(() => import('../features/settings/Settings'), 'Settings');
const Audit = screen(() => import('../features/audit/Audit'), 'Audit');

function SignedIn({ children }: { children: ReactNode }) {
  const { me, ready } = useAuth();
  if (!ready)
    return (
      <p className="p-8" aria-busy="true">
        Loading…
      </p>
    );
  return me ? children : <Navigate to="/signin" replace />;
}

/** Sign-in and sign-up pages; once signed in, on to `?next=` (an invitation) or the data. */
function SignedOut({ children }: { children: ReactNode }) {
  const { me, ready } = useAuth();
  const [params] = useSearchParams();
  if (!ready)
    return (
      <p className="p-8" aria-busy="true">
        Loading…
      </p>
    );
  const next = params.get('next') ?? '';
  return me ? <Navigate to={/^\/[a-z]/.test(next) ? next : '/data'} replace /> : children;
}

export function App() {
  return (
    <BrowserRouter>
      <Suspense
        fallback={
          <p className="p-8" aria-busy="true">
            Loading…
          </p>
        }
      >
        <Routes>
          <Route
            path="/signin"
            element={
              <SignedOut>
                <AuthForm mode="signin" />
              </SignedOut>
            }
          />
          <Route
            path="/signup"
            element={
              <SignedOut>
                <AuthForm mode="signup" />
              </SignedOut>
            }
          />
          <Route path="/invite/:token" element={<AcceptInvite />} />
          <Route
            element={
              <SignedIn>
                <Shell />
              </SignedIn>
            }
          >
            <Route index element={<Navigate to="/dashboard" replace />} />
            <Route path="/dashboard" element={<Dashboard />} />
            <Route path="/logs" element={<Logs />} />
            <Route path="/flows" element={<Flows />} />
            <Route path="/flows/:id" element={<FlowEditor />} />
            <Route path="/executions" element={<Executions />} />
            <Route path="/actions" element={<Actions />} />
            <Route path="/actions/new" element={<ActionEditor />} />
            <Route path="/actions/:id" element={<ActionEditor />} />
            <Route path="/agents" element={<Agents />} />
            <Route path="/agents/new" element={<AgentEditor />} />
            <Route path="/agents/:id" element={<AgentEditor />} />
            <Route path="/data" element={<Models />} />
            {/* Model names start with a letter: these two can never hide a model. */}
            <Route path="/data/_new" element={<NewModel />} />
            <Route path="/data/_diagram" element={<Diagram />} />
            <Route path="/data/:model" element={<Records />} />
            <Route path="/usage" element={<Usage />} />
            <Route path="/api-keys" element={<ApiKeys />} />
            <Route path="/webhooks" element={<Webhooks />} />
            <Route path="/audit" element={<Audit />} />
            <Route path="/members" element={<Members />} />
            <Route path="/vault" element={<Vault />} />
            <Route path="/settings" element={<Settings />} />
            <Route path="*" element={<p className="p-8">No such page.</p>} />
          </Route>
        </Routes>
      </Suspense>
    </BrowserRouter>
  );
}
