import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderConfTemplate } from './conf-template.js';

// The ipam part of containerd's documented conf_template example.
const containerdExample = `{
  "ipam": {
    "type": "host-local",
    "ranges": [
      {{- range $i, $range := .PodCIDRRanges}}{{if $i}},
      {{end}}[{"subnet": "{{$range}}"}]
      {{- end}}
    ],
    "routes": [
      {{- range $i, $route := .Routes}}{{if $i}},
      {{end}}{"dst": "{{$route}}"}
      {{- end}}
    ]
  }
}`;
const dual = { PodCIDR: '10.88.1.0/24', PodCIDRRanges: ['10.88.1.0/24', 'fd00:1::/64'], Routes: ['0.0.0.0/0', '::/0'] };

describe('renderConfTemplate', () => {
  it('renders containerd\'s example template into valid JSON', () => {
    const out = JSON.parse(renderConfTemplate(containerdExample, dual)) as { ipam: Record<string, unknown> };
    assert.deepEqual(out.ipam.ranges, [[{ subnet: '10.88.1.0/24' }], [{ subnet: 'fd00:1::/64' }]]);
    assert.deepEqual(out.ipam.routes, [{ dst: '0.0.0.0/0' }, { dst: '::/0' }]);
  });

  it('supports {{.PodCIDR}}, range over dot, else branches and comments', () => {
    assert.equal(renderConfTemplate('{{/* c */}}a={{.PodCIDR}}', dual), 'a=10.88.1.0/24');
    assert.equal(renderConfTemplate('{{range .Routes}}<{{.}}>{{end}}', dual), '<0.0.0.0/0><::/0>');
    assert.equal(renderConfTemplate('{{range $r := .Routes}}{{$r}};{{end}}', dual), '0.0.0.0/0;::/0;');
    assert.equal(renderConfTemplate('{{if .PodCIDR}}yes{{else}}no{{end}}', { ...dual, PodCIDR: '' }), 'no');
    assert.equal(renderConfTemplate('{{range .Routes}}x{{else}}none{{end}}', { ...dual, Routes: [] }), 'none');
    assert.equal(renderConfTemplate('a  {{- .PodCIDR -}}  b', dual), 'a10.88.1.0/24b');
  });

  it('refuses what it does not support, or an unbalanced template', () => {
    assert.throws(() => renderConfTemplate('{{printf "%s" .PodCIDR}}', dual), /unsupported template action/);
    assert.throws(() => renderConfTemplate('{{range .Routes}}x', dual), /missing \{\{end\}\}/);
    assert.throws(() => renderConfTemplate('{{.Nope}}', dual), /no field "Nope"/);
  });
});
