import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { ApiError, api } from '../../lib/api';
import { useAuth } from '../../lib/auth';
import { Alert, Button } from '../../components/ui';

/** The page an invitation link opens: sign in (or up) with the invited email, then join. */
export function AcceptInvite() {
  const { token = '' } = useParams();
  const { me, ready, switchOrg } = useAuth();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const here = `/invite/${token}`;
  if (!ready)
    return (
      <p className="p-8" aria-busy="true">
        Loading…
      </p>
    );
  const accept = async () => {
    setError(null);
    try {
      const org = await api<{ data: { id: string } }>('POST', `/invitations/${token}/accept`);
      await switchOrg(org.data.id);
      void navigate('/data');
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'The invitation could not be accepted.');
    }
  };
  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <div className="flex w-full max-w-sm flex-col gap-4 rounded-xl border border-zinc-200 p-6 dark:border-zinc-800">
        <h1 className="text-2xl font-semibold">Join an organization</h1>
        {me ? (
          <>
            <p className="text-sm">You are signed in as {me.user?.email}. Accept the invitation to join.</p>
            <Button onClick={() => void accept()}>Accept invitation</Button>
          </>
        ) : (
          <p className="text-sm">
            <Link className="text-indigo-700 underline dark:text-indigo-300" to={`/signin?next=${encodeURIComponent(here)}`}>
              Sign in
            </Link>{' '}
            or{' '}
            <Link className="text-indigo-700 underline dark:text-indigo-300" to={`/signup?next=${encodeURIComponent(here)}`}>
              create an account
            </Link>{' '}
            with the email the invitation was sent to.
          </p>
        )}
        <Alert>{error}</Alert>
      </div>
    </main>
  );
}
