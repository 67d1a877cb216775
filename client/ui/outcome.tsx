/** What an admin's action came to: a failure as an alert, a success in a polite status line (always present, so it is announced). */
export function Outcome({ error, message }: { error: string | null; message: string | null }) {
  return (
    <>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <p className="saved" role="status">
        {message}
      </p>
    </>
  );
}
