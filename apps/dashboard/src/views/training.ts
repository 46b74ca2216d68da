import { DashModelKindsDocument, DashRetrainDocument, DashRunUpdatedDocument, DashTrainingRunDocument, DashTrainingRunsDocument, type DashModelKindsQuery, type DashRunFragment } from '@recsys/client';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { renderChart } from '@recsys/charts';
import { client, errorText, savedToken, saveToken } from '../api';
import { errorBox, fmt, h, replace, table } from '../dom';
import { curveSpec, secondsLeft } from '../specs';
import type { ViewContext } from './view';

type KindInfo = DashModelKindsQuery['modelKinds'][number];
type ParamInfo = KindInfo['parameters'][number];

/** Past runs drawn with their curves (the newest). */
export const PAST_RUN_CURVES = 6;

/** One field per parameter: a select for choices, else a number input with the bounds as min/max and the default filled in. */
function parameterField(p: ParamInfo): { row: HTMLElement; read(): [string, unknown] | null } {
  const id = `param-${p.name}`;
  const hintId = `${id}-hint`;
  const fallback = p.default === null ? null : (JSON.parse(p.default) as unknown);
  const hint = h('span', { class: 'hint', id: hintId }, `${p.description}; default ${p.default ?? 'set by the machine'}`);
  let control: HTMLInputElement | HTMLSelectElement;
  if (p.choices) {
    control = h('select', { id, name: p.name, 'aria-describedby': hintId }, p.choices.map((c) => h('option', { value: c, selected: c === fallback }, c)));
  } else if (p.type === 'string') {
    control = h('input', { id, name: p.name, type: 'text', value: typeof fallback === 'string' ? fallback : '', 'aria-describedby': hintId });
  } else {
    control = h('input', {
      id,
      name: p.name,
      type: 'number',
      step: p.type === 'integer' ? 1 : 'any',
      min: p.min ?? undefined,
      max: p.max ?? undefined,
      value: typeof fallback === 'number' ? fallback : '',
      placeholder: fallback === null ? 'default' : undefined,
      'aria-describedby': hintId,
    });
  }
  const row = h('div', { class: 'field' }, h('label', { for: id }, p.name), control, hint);
  return {
    row,
    // Only values that differ from the default are sent: the server fills in the rest.
    read: () => {
      const text = control.value.trim();
      if (text === '') return null;
      const value = p.type === 'string' || p.choices ? text : Number(text);
      return value === fallback ? null : [p.name, value];
    },
  };
}

/** The newest state of a run: updates may arrive out of order (subscription and polls), so more epochs or a final status wins. */
function newer(a: DashRunFragment | null, b: DashRunFragment): DashRunFragment {
  if (!a) return b;
  const final = (r: DashRunFragment) => r.status === 'SUCCEEDED' || r.status === 'FAILED';
  if (final(a) && !final(b)) return a;
  if (final(b) && !final(a)) return b;
  return b.epochs.length >= a.epochs.length ? b : a;
}

function runCaption(run: DashRunFragment): string {
  const parts = [`${run.kind.toLowerCase()} · ${run.status}`];
  if (run.heldOutRmse !== null) parts.push(`held-out RMSE ${fmt(run.heldOutRmse, 4)}${run.referenceRmse !== null ? ` (${run.referenceKind} ${fmt(run.referenceRmse, 4)})` : ''}`);
  if (run.heldOutNdcg !== null) parts.push(`held-out NDCG@10 ${fmt(run.heldOutNdcg, 4)}${run.referenceNdcg !== null ? ` (popular ${fmt(run.referenceNdcg, 4)})` : ''}`);
  if (run.error) parts.push(run.error);
  return parts.join(' · ');
}

/** The form to retrain, the live learning curve of the run it starts, and past runs with their curves. */
export async function trainingView(ctx: ViewContext): Promise<void> {
  const [{ modelKinds, activeModels }, runs] = await Promise.all([client().request(DashModelKindsDocument, {}), client().request(DashTrainingRunsDocument, { first: 20 })]);
  if (ctx.stale()) return;

  // Preselected: the active rating model's kind (retrain's own default).
  const kindSelect = h(
    'select',
    { id: 'kind', name: 'kind' },
    modelKinds.map((k) => h('option', { value: k.kind, selected: k.kind === activeModels.rating.kind }, `${k.kind.toLowerCase()} (${k.role.toLowerCase()})`)),
  );
  const kindHelp = h('p', { class: 'hint', id: 'kind-hint' });
  kindSelect.setAttribute('aria-describedby', 'kind-hint');
  const params = h('fieldset', {}, h('legend', {}, 'Parameters'));
  let fields: Array<ReturnType<typeof parameterField>> = [];
  const showKind = () => {
    const info = modelKinds.find((k) => k.kind === kindSelect.value)!;
    kindHelp.textContent = info.description;
    fields = info.parameters.map(parameterField);
    replace(params, h('legend', {}, `Parameters of ${info.kind.toLowerCase()}`), fields.length ? fields.map((f) => f.row) : h('p', {}, 'No parameters.'));
  };
  kindSelect.addEventListener('change', showKind);
  showKind();

  const token = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', value: savedToken(), 'aria-describedby': 'token-hint' });
  token.addEventListener('change', () => saveToken(token.value.trim()));
  const message = h('div', { id: 'retrain-message', 'aria-live': 'polite' });
  const live = h('section', { id: 'live-run', 'aria-labelledby': 'live-h', 'aria-live': 'polite' });
  const past = h('section', { id: 'past-runs', 'aria-labelledby': 'past-h' });

  const form = h(
    'form',
    { id: 'retrain-form', onsubmit: (e: Event) => void submit(e) },
    h('div', { class: 'field' }, h('label', { for: 'kind' }, 'Kind'), kindSelect, kindHelp),
    params,
    h('div', { class: 'field' }, h('label', { for: 'token' }, 'API token'), token, h('span', { class: 'hint', id: 'token-hint' }, 'Kept in this tab only (sessionStorage): the server’s RECSYS_API_TOKEN, or the file <cache>/api-token it wrote.')),
    h('button', { type: 'submit', id: 'retrain' }, 'Retrain'),
    message,
  );

  const showPast = (list: DashRunFragment[]) => {
    const withCurves = list.filter((r) => r.epochs.some((e) => e.trainRmse !== null)).slice(0, PAST_RUN_CURVES);
    replace(
      past,
      h('h2', { id: 'past-h' }, 'Past runs'),
      list.length === 0 ? h('p', {}, 'No runs yet.') : null,
      h('div', { class: 'grid' }, withCurves.map((r) => renderChart(curveSpec(`Run ${r.id}`, r.epochs, runCaption(r)), { width: 420 }))),
      list.length > 0
        ? table(
            ['run', 'kind', 'status', 'epochs', 'held-out RMSE', 'held-out MAE', 'held-out NDCG@10', 'queued', 'error'],
            list.map((r) => [r.id, r.kind.toLowerCase(), r.status, `${r.epoch}/${r.totalEpochs ?? '?'}`, fmt(r.heldOutRmse, 4), fmt(r.heldOutMae, 4), fmt(r.heldOutNdcg, 4), r.queuedAt.replace('T', ' ').slice(0, 19), r.error ?? '']),
            'Training runs, newest first',
          )
        : null,
    );
  };
  showPast(runs.trainingRuns.edges.map((e) => e.node));

  let current: DashRunFragment | null = null;
  const showRun = (run: DashRunFragment) => {
    current = newer(current, run);
    const r = current;
    const left = r.status === 'RUNNING' ? secondsLeft(r.kind, r.epochs, r.totalEpochs ?? null) : null;
    const progress = h('progress', { id: 'epoch-progress', max: r.totalEpochs ?? 1, value: r.epoch, 'aria-label': 'epochs done' });
    replace(
      live,
      h('h2', { id: 'live-h' }, `Run ${r.id}`),
      h('p', {}, h('span', { class: 'status', id: 'run-status', 'data-status': r.status }, r.status), ` · epoch ${r.epoch} of ${r.totalEpochs ?? '?'} `, progress, left !== null ? ` · about ${fmt(Math.ceil(left))} s left` : ''),
      r.error ? errorBox(r.error) : null,
      renderChart(curveSpec('Learning curve', r.epochs, runCaption(r))),
    );
  };

  const ws = createClient({ url: `${location.origin.replace(/^http/, 'ws')}/graphql`, lazy: true, retryAttempts: 3 });
  /** The run followed live (one at a time): stop() ends its subscription and poll. */
  let watching: { stop(): void } | null = null;
  ctx.onLeave(() => {
    watching?.stop();
    void ws.dispose();
  });

  const watch = (id: string) => {
    watching?.stop();
    let done = false;
    let timer: ReturnType<typeof setInterval> | null = null;
    let unsubscribe = () => {};
    const stop = () => {
      done = true;
      if (timer) clearInterval(timer);
      unsubscribe();
    };
    watching = { stop };
    const update = async (run: DashRunFragment) => {
      if (done || ctx.stale()) return;
      showRun(run);
      if (current?.status !== 'SUCCEEDED' && current?.status !== 'FAILED') return;
      // Over: the past runs now hold it.
      stop();
      const r = await client().request(DashTrainingRunsDocument, { first: 20 });
      if (!ctx.stale()) showPast(r.trainingRuns.edges.map((e) => e.node));
    };
    const poll = async () => {
      try {
        await update((await client().request(DashTrainingRunDocument, { id })).trainingRun);
      } catch (error) {
        replace(message, errorBox(errorText(error)));
      }
    };
    unsubscribe = ws.subscribe<{ trainingRunUpdated: DashRunFragment }>(
      { query: print(DashRunUpdatedDocument), variables: { id } },
      {
        next: ({ data, errors }) => {
          if (errors?.length) replace(message, errorBox(errors.map((e) => e.message).join('; ')));
          if (data) void update(data.trainingRunUpdated);
        },
        error: (error) => replace(message, errorBox(`live updates stopped: ${errorText(error)}; polling instead`)),
        complete: () => undefined,
      },
    );
    // The run may move before the subscription is registered: a poll every 2 s until it ends.
    timer = setInterval(() => void poll(), 2000);
    void poll();
  };

  async function submit(event: Event) {
    event.preventDefault();
    saveToken(token.value.trim());
    const parameters: Record<string, unknown> = {};
    for (const f of fields) {
      const entry = f.read();
      if (entry) parameters[entry[0]] = entry[1];
    }
    replace(message);
    try {
      const { retrain } = await client().request(DashRetrainDocument, { input: { kind: kindSelect.value as KindInfo['kind'], parameters } });
      current = null;
      showRun(retrain);
      watch(retrain.id);
    } catch (error) {
      replace(message, errorBox(errorText(error)));
    }
  }

  // A run already going (started elsewhere, or before a reload) is followed live too.
  const going = runs.trainingRuns.edges.map((e) => e.node).find((r) => r.status === 'RUNNING' || r.status === 'QUEUED');
  if (going) {
    showRun(going);
    watch(going.id);
  }

  replace(ctx.main, h('h1', {}, 'Training'), h('div', { class: 'training-top' }, h('section', { 'aria-labelledby': 'retrain-h' }, h('h2', { id: 'retrain-h' }, 'Retrain'), form), live), past);
}
