import { describe, expect, it } from 'vitest';
import {
  TEMPLATE_VARIABLES,
  renderTemplate,
  templateValues,
  validateTemplate,
} from '../../../lib/domain/template';
import { checkMessage } from '../channels/fixtures';

describe('templates', () => {
  it('accepts every documented variable, with or without spaces inside the braces', () => {
    const t = Object.keys(TEMPLATE_VARIABLES)
      .map((n, i) => (i % 2 === 0 ? `{{${n}}}` : `{{ ${n} }}`))
      .join(' ');
    expect(validateTemplate(t)).toEqual([]);
  });

  it('names unknown variables once each, so config validation can report them', () => {
    expect(validateTemplate('{{cluster}} {{clsuter}} {{ nope }} {{clsuter}} {{}}')).toEqual([
      'clsuter',
      'nope',
      '',
    ]);
  });

  it('substitutes values and escapes them, but keeps the literal markup of the template', () => {
    const out = renderTemplate('**{{cluster}}** {{status}}', { cluster: 'a*b', status: 'Failed' }, (s) =>
      s.replace(/\*/g, '\\*'),
    );
    expect(out).toBe('**a\\*b** Failed');
  });

  it('does not escape the pre-rendered failing_items list', () => {
    expect(renderTemplate('{{failing_items}}', { failing_items: '- **x**' }, () => 'ESCAPED')).toBe(
      '- **x**',
    );
  });

  it('renders unknown and missing variables as empty text instead of executing anything', () => {
    expect(renderTemplate('[{{constructor}}][{{target}}][{{__proto__}}]', {}, (s) => s)).toBe('[][][]');
  });

  it('derives every variable from a message, in the channel language', () => {
    const v = templateValues(checkMessage('failed'), 'zh');
    expect(v).toMatchObject({
      outcome: 'failed',
      outcome_text: '检查未通过',
      cluster: 'prod-hangzhou',
      duration: '4分0秒',
      failing_count: '3',
      error_count: '1',
    });
    const en = templateValues(checkMessage('failed', { clusterName: undefined }), 'en');
    expect(en.cluster).toBe(en.cluster_id);
    expect(en.duration).toBe('4m 0s');
  });
});
