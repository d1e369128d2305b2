import { describe, expect, it } from 'vitest';
import { inflectedForms } from '../../core/inflections.js';

describe('inflectedForms', () => {
  it('writes the regular adjective endings of each language', () => {
    expect(inflectedForms('de', 'schön')).toEqual(['schöne', 'schönen', 'schöner', 'schönes', 'schönem']);
    expect(inflectedForms('de', 'beste')).toEqual(['besten', 'bester', 'bestes', 'bestem']);
    expect(inflectedForms('es', 'bueno')).toEqual(['buena', 'buenos', 'buenas']);
    expect(inflectedForms('es', 'feliz')).toEqual(['felices']);
    expect(inflectedForms('es', 'genial')).toEqual(['geniales']);
    expect(inflectedForms('pt', 'lindo')).toEqual(['linda', 'lindos', 'lindas']);
    expect(inflectedForms('pt', 'bom')).toEqual(['bons']);
    expect(inflectedForms('pt', 'legal')).toEqual(['legais']);
    expect(inflectedForms('it', 'bello')).toEqual(['bella', 'belli', 'belle']);
    expect(inflectedForms('it', 'triste')).toEqual(['tristi']);
    expect(inflectedForms('fr', 'heureux')).toEqual(['heureuse', 'heureuses']);
    expect(inflectedForms('fr', 'génial')).toEqual(['géniaux', 'géniale', 'géniales']);
    expect(inflectedForms('fr', 'cruel')).toEqual(['cruelle', 'cruelles', 'cruels']);
    expect(inflectedForms('fr', 'fier')).toEqual(['fière', 'fières', 'fiers']);
    expect(inflectedForms('fr', 'parfait')).toEqual(['parfaite', 'parfaits', 'parfaites']);
  });

  it('writes nothing for languages without rules or words without a regular ending', () => {
    expect(inflectedForms('ar', 'جميل')).toEqual([]);
    expect(inflectedForms('en', 'good')).toEqual([]);
    expect(inflectedForms('it', 'blu')).toEqual([]);
    expect(inflectedForms('fr', 'gris')).toEqual([]);
  });
});
