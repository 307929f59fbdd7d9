// The layouts by name; a model's `layout` field picks one (absent: seed).
import { type Cluster, type LayoutName, layoutOf } from '../model/cluster.ts';
import type { Layout } from './layout.ts';
import { seedLayout } from './seed/index.ts';
import { kthwLayout } from './kthw/index.ts';

const LAYOUTS: Record<LayoutName, Layout> = { seed: seedLayout, kthw: kthwLayout };

export function layoutFor(c: Cluster): Layout {
  return LAYOUTS[layoutOf(c)];
}

export function layoutNamed(name: LayoutName): Layout {
  return LAYOUTS[name];
}
