/** A failure said at once (an alert), in the form's error style; nothing when there is none. */
export function FormError({ error }: { error: string | null | undefined }) {
  return error ? (
    <p className="form-error" role="alert">
      {error}
    </p>
  ) : null;
}

/** What an admin's action came to: a failure as an alert, a success in a polite status line (always present, so it is announced). */
export function Outcome({ error, message }: { error: string | null; message: string | null }) {
  return (
    <>
      <FormError error={error} />
      <p className="saved" role="status">
        {message}
      </p>
    </>
  );
}
