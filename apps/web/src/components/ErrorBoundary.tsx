import { Component, type ReactNode } from 'react';

/** A rendering error shows a message and a way back, never a blank page. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div role="alert" className="m-8 rounded-lg border border-red-300 p-6">
        <h1 className="text-lg font-semibold">Something went wrong on this page.</h1>
        <p className="mt-2 text-sm">{this.state.error.message}</p>
        <a className="mt-4 inline-block text-sm text-indigo-700 underline dark:text-indigo-300" href="/">
          Back to the start
        </a>
      </div>
    );
  }
}
