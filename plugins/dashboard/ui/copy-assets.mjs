// The build's last step: the page and its stylesheet beside the compiled script, in dist.
import { copyFileSync } from 'node:fs';

for (const file of ['index.html', 'style.css']) copyFileSync(new URL(file, import.meta.url), new URL(`../../../dist/plugins/dashboard/ui/${file}`, import.meta.url));
