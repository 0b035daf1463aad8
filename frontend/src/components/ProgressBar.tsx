interface Props {
  label: string;
  value: number; // 0..1
  text: string;
}

export function ProgressBar({ label, value, text }: Props) {
  const pct = Math.round(Math.min(1, Math.max(0, value)) * 100);
  return (
    <div className="progress">
      <div
        className="progress-track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={text}
      >
        <div className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      <p className="progress-text" aria-live="polite">
        {text}
      </p>
    </div>
  );
}
