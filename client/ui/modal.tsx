/**
 * A native modal dialog: focus moves in and stays there, Escape closes, the page behind is inert.
 * Closed, it gives focus back to the element that had it when the dialog opened (the button or the
 * field that opened it), so a keyboard user goes on from where they were.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import { useMarkUnsaved } from '../stores/unsaved-work';

interface Props {
  title: string;
  titleId: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}

export function Modal({ title, titleId, onClose, children, wide }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  useMarkUnsaved(true); // an open dialog holds off a reload for a new version
  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      dialog?.close();
      // A dialog removed with its component leaves the focus on the page. An opener gone meanwhile
      // (the Void button of a row just voided) leaves it where the browser put it.
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className={wide ? 'modal wide' : 'modal'}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}
