/**
 * A small multilingual lexicon for the offline negotiator: the Spanish, German and French words for the contract's
 * terms, units and question words, rewritten to the English the intent parser reads. Numbers, units and "%" are
 * universal already; this covers the words around them ("ventana de 10 minutos", "warum so riskant?").
 */

/** [phrase, English]; longer phrases first so "tasa de error" wins over "error". Matched on word boundaries. */
const PHRASES: [string, string][] = [
  // Spanish
  ['por qué', 'why'],
  ['qué es', 'what is'],
  ['qué significa', 'what does mean'],
  ['tasa de errores?', 'error rate'],
  ['umbral de errores?', 'error threshold'],
  ['primer paso', 'first step'],
  ['cada paso', 'each step'],
  ['por paso', 'per step'],
  ['por ciento', 'percent'],
  ['ventanas?', 'window'],
  ['umbral(?:es)?', 'threshold'],
  ['latencia', 'latency'],
  ['rampa', 'ramp'],
  ['pasos?', 'step'],
  ['minutos?', 'minutes'],
  ['segundos?', 'seconds'],
  ['horas?', 'hours'],
  ['riesgos?', 'risk'],
  ['arriesgad[oa]', 'risky'],
  ['alto', 'high'],
  ['bandera', 'flag'],
  ['pruebas', 'tests'],
  ['gracias', 'thanks'],
  ['subir', 'raise'],
  ['bajar', 'lower'],
  // German
  ['warum', 'why'],
  ['was ist', 'what is'],
  ['was bedeutet', 'what does mean'],
  ['fehlerrate', 'error rate'],
  ['fehlerquote', 'error rate'],
  ['erster schritt', 'first step'],
  ['ersten schritt', 'first step'],
  ['jeder schritt', 'each step'],
  ['jeden schritt', 'each step'],
  ['pro schritt', 'per step'],
  ['schritte?', 'step'],
  ['fenster', 'window'],
  ['schwell(?:e|enwert)', 'threshold'],
  ['latenz', 'latency'],
  ['prozent', 'percent'],
  ['minuten?', 'minutes'],
  ['sekunden?', 'seconds'],
  ['stunden?', 'hours'],
  ['risiko', 'risk'],
  ['riskant', 'risky'],
  ['hoch', 'high'],
  ['danke', 'thanks'],
  ['erhöhen', 'raise'],
  ['senken', 'lower'],
  // French
  ['pourquoi', 'why'],
  ["qu'est-ce que", 'what is'],
  ["taux d'erreurs?", 'error rate'],
  ["seuil d'erreurs?", 'error threshold'],
  ['premier palier', 'first step'],
  ['première étape', 'first step'],
  ['chaque (?:palier|étape)', 'each step'],
  ['par (?:palier|étape)', 'per step'],
  ['pour cent', 'percent'],
  ['fenêtres?', 'window'],
  ['seuils?', 'threshold'],
  ['latence', 'latency'],
  ['paliers?', 'step'],
  ['étapes?', 'step'],
  ['secondes?', 'seconds'],
  ['heures?', 'hours'],
  ['risqu(?:e|é|ée)', 'risk'],
  ['élevé', 'high'],
  ['erreurs?', 'error'],
  ['merci', 'thanks'],
  ['augmenter', 'raise'],
  ['baisser', 'lower'],
];

const RULES = PHRASES.map(([phrase, english]) => ({
  re: new RegExp(`(?<![\\p{L}\\d])${phrase}(?![\\p{L}\\d])`, 'gu'),
  english,
}));

/** `text` (lower-cased) with the foreign words for the contract's terms replaced by English ones. */
export function translateTerms(text: string): string {
  let out = text.replace(/[¿¡]/g, ' ');
  for (const { re, english } of RULES) out = out.replace(re, english);
  return out;
}
