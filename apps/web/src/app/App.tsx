import { lazy, Suspense, type ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useSearchParams } from 'react-router';
import { useAuth } from '../lib/auth';
import { Shell } from './Shell';
import { AuthForm } from '../features/auth/AuthForm';

// One chunk per screen: the first page loads only what it shows.
const Models = lazy(() => import('../features/data/Models').then((m) => ({ default: m.Models })));
const NewModel = lazy(() => import('../features/data/NewModel').then((m) => ({ default: m.NewModel })));
const Records = lazy(() => import('../features/data/Records').then((m) => ({ default: m.Records })));
const Usage = lazy(() => import('../features/usage/Usage').then((m) => ({ default: m.Usage })));
const ApiKeys = lazy(() => import('../features/keys/ApiKeys').then((m) => ({ default: m.ApiKeys })));
const Members = lazy(() => import('../features/members/Members').then((m) => ({ default: m.Members })));
const Vault = lazy(() => import('../features/vault/Vault').then((m) => ({ default: m.Vault })));
const AcceptInvite = lazy(() => import('../features/auth/AcceptInvite').then((m) => ({ default: m.AcceptInvite })));
const Dashboard = lazy(() => import('../features/dashboard/Dashboard').then((m) => ({ default: m.Dashboard })));
const Logs = lazy(() => import('../features/logs/Logs').then((m) => ({ default: m.Logs })));
const Flows = lazy(() => import('../features/flows/Flows').then((m) => ({ default: m.Flows })));
const Executions = lazy(() => import('../features/flows/Executions').then((m) => ({ default: m.Executions })));
const Audit = lazy(() => import('../features/audit/Audit').then((m) => ({ default: m.Audit })));

function SignedIn({ children }: { children: ReactNode }) {
  const { me, ready } = useAuth();
  if (!ready) return <p className="p-8" aria-busy="true">Loading…</p>;
  return me ? children : <Navigate to="/signin" replace />;
}

/** Sign-in and sign-up pages; once signed in, on to `?next=` (an invitation) or the data. */
function SignedOut({ children }: { children: ReactNode }) {
  const { me, ready } = useAuth();
  const [params] = useSearchParams();
  if (!ready) return <p className="p-8" aria-busy="true">Loading…</p>;
  const next = params.get('next') ?? '';
  return me ? <Navigate to={/^\/[a-z]/.test(next) ? next : '/data'} replace /> : children;
}

export function App() {
  return (
    <BrowserRouter>
      <Suspense fallback={<p className="p-8" aria-busy="true">Loading…</p>}>
        <Routes>
          <Route path="/signin" element={<SignedOut><AuthForm mode="signin" /></SignedOut>} />
          <Route path="/signup" element={<SignedOut><AuthForm mode="signup" /></SignedOut>} />
          <Route path="/invite/:token" element={<AcceptInvite />} />
          <Route element={<SignedIn><Shell /></SignedIn>}>
            <Route index element={<Navigate to="/dashboard" replace />} />
            <Route path="/dashboard" element={<Dashboard />} />
            <Route path="/logs" element={<Logs />} />
            <Route path="/flows" element={<Flows />} />
            <Route path="/executions" element={<Executions />} />
            <Route path="/data" element={<Models />} />
            <Route path="/data/new" element={<NewModel />} />
            <Route path="/data/:model" element={<Records />} />
            <Route path="/usage" element={<Usage />} />
            <Route path="/api-keys" element={<ApiKeys />} />
            <Route path="/audit" element={<Audit />} />
            <Route path="/members" element={<Members />} />
            <Route path="/vault" element={<Vault />} />
            <Route path="*" element={<p className="p-8">No such page.</p>} />
          </Route>
        </Routes>
      </Suspense>
    </BrowserRouter>
  );
}
