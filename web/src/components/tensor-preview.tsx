// A tensors output's preview: each tensor's shape, dtype, range and histogram, and for a dataset its
// first images with their labels (a corrupted dataset shows at a glance).
import type { TensorPreview } from '../../../src/ui/api';
import { withToken } from '../api';
import { num } from '../format';
import { useApi } from '../use-api';
import { Async } from './async';
import { Histogram } from './histogram';

export function TensorPreviewView({ href }: { href: string }) {
  const preview = useApi<TensorPreview>(href);
  return (
    <Async value={preview}>
      {(p) => (
        <div class="preview">
          {p.tensors.map((t) => (
            <section key={t.name}>
              <h4>
                <code>{t.name}</code> {t.dtype} [{t.shape.join(', ')}]
              </h4>
              <p class="muted">
                min {num(t.min)} · mean {num(t.mean)} · max {num(t.max)}
              </p>
              <Histogram histogram={t.histogram} label={`histogram of ${t.name}`} />
            </section>
          ))}
          {p.images.length > 0 && (
            <ul class="thumbs" aria-label="first images of the dataset">
              {p.images.map((img, i) => (
                <li key={img.href}>
                  <img src={withToken(img.href)} alt={`image ${i}${img.label === null ? '' : `, label ${img.label}`}`} width={56} height={56} loading="lazy" />
                  <span>{img.label ?? '—'}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </Async>
  );
}
