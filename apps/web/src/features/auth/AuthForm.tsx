import { type FormEvent, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { ApiError } from '../../lib/api';
import { useAuth } from '../../lib/auth';
import { Alert, Button, Field, Input } from '../../components/ui';

/** Sign-in and sign-up: one form, the server's per-field errors shown under each field. */
export function AuthForm({ mode }: { mode: 'signin' | 'signup' }) {
  const { signIn, signUp } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  // Only a path of this app (an invitation link) may be returned to.
  const next = /^\/[a-z]/.test(params.get('next') ?? '') ? params.get('next')! : '/data';
  const suffix = params.get('next') ? `?next=${encodeURIComponent(next)}` : '';
  const [values, setValues] = useState({ name: '', email: '', password: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof values) => (e: { target: { value: string } }) => setValues((v) => ({ ...v, [k]: e.target.value }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setMessage(null);
    try {
      if (mode === 'signup') await signUp(values.name, values.email, values.password);
      else await signIn(values.email, values.password);
      void navigate(next);
    } catch (err) {
      if (err instanceof ApiError) {
        setErrors(err.fieldErrors());
        setMessage(err.message);
      } else setMessage('The server could not be reached.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <form
        onSubmit={(e) => void submit(e)}
        className="flex w-full max-w-sm flex-col gap-4 rounded-xl border border-zinc-200 p-6 shadow-sm dark:border-zinc-800"
        noValidate
      >
        <h1 className="text-2xl font-semibold">{mode === 'signup' ? 'Create your account' : 'Sign in to Infinity'}</h1>
        {mode === 'signup' && (
          <Field label="Name" error={errors.name}>
            {(id, d) => (
              <Input id={id} aria-describedby={d} aria-invalid={Boolean(errors.name)} value={values.name} onChange={set('name')} autoComplete="name" required />
            )}
          </Field>
        )}
        <Field label="Email" error={errors.email}>
          {(id, d) => (
            <Input
              id={id}
              type="email"
              aria-describedby={d}
              aria-invalid={Boolean(errors.email)}
              value={values.email}
              onChange={set('email')}
              autoComplete="email"
              required
            />
          )}
        </Field>
        <Field
          label="Password"
          error={errors.password}
          hint={mode === 'signup' ? 'At least 8 characters, not a common password: a few unrelated words work well.' : undefined}
        >
          {(id, d) => (
            <Input
              id={id}
              type="password"
              aria-describedby={d}
              aria-invalid={Boolean(errors.password)}
              value={values.password}
              onChange={set('password')}
              autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
              required
            />
          )}
        </Field>
        <Alert>{message}</Alert>
        <Button type="submit" disabled={busy}>
          {mode === 'signup' ? 'Create account' : 'Sign in'}
        </Button>
        <p className="text-sm">
          {mode === 'signup' ? (
            <>
              Have an account?{' '}
              <Link className="text-indigo-700 underline dark:text-indigo-300" to={`/signin${suffix}`}>
                Sign in
              </Link>
            </>
          ) : (
            <>
              New here?{' '}
              <Link className="text-indigo-700 underline dark:text-indigo-300" to={`/signup${suffix}`}>
                Create an account
              </Link>
            </>
          )}
        </p>
      </form>
    </main>
  );
}
