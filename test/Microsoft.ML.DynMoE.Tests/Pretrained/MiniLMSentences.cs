using System.Collections.Generic;

namespace Microsoft.ML.DynMoE.Tests.Pretrained;

/// <summary>
/// Varied English test sentences: casing, punctuation, contractions, numbers, quotes, rare words that WordPiece splits,
/// and lengths from one word to about 90 tokens. All are plain ASCII separated by single spaces, the input on which the
/// package's simpler tokenizer (it splits only on spaces and ASCII punctuation, keeps accents, drops words over 50
/// characters) and BERT's basic tokenizer agree.
/// </summary>
internal static class MiniLMSentences
{
    private static readonly string[] Handwritten =
    {
        "Hello world.",
        "The quick brown fox jumps over the lazy dog!",
        "I don't think that's what she meant, is it?",
        "Transformers changed natural language processing in 2017.",
        "Mixture-of-experts layers route each token to a few feed-forward networks.",
        "Prices rose by 3.5% in March; analysts expected 2.9%.",
        "\"Stop,\" he said. \"We're done here.\"",
        "Email me at someone@example.com or call 555-0199 (after 6 p.m.).",
        "Unbelievably, the antidisestablishmentarianism debate resurfaced.",
        "Photosynthesis converts light energy into chemical energy.",
        "WHY ARE YOU SHOUTING?",
        "The U.S. economy grew faster than the E.U. average last year.",
        "Cats & dogs: a #1 rivalry since forever :)",
        "Paris is the capital of France, and Berlin is the capital of Germany.",
        "She sells sea shells by the sea shore.",
        "A man is playing a guitar on the street corner.",
        "Two children are building a sandcastle at the beach.",
        "The stock market crashed after the announcement.",
        "Quantum computers exploit superposition and entanglement.",
        "My grandmother's recipe calls for 2 cups of flour, 1 egg and a pinch of salt.",
        "Is it raining in Seattle today?",
        "Neural networks learn representations from data.",
        "The committee postponed the vote until Thursday's meeting.",
        "OK",
        "Supercalifragilisticexpialidocious is a very long word.",
    };

    private static readonly string[] Subjects = { "The engineer", "A small bird", "Our team", "The old library", "Every student", "The new model", "A tired doctor", "The orchestra" };
    private static readonly string[] Verbs = { "quickly finished", "carefully examined", "never understood", "loudly celebrated", "slowly rebuilt", "finally published" };
    private static readonly string[] Objects = { "the quarterly report", "a strange noise", "the 42 remaining tickets", "its own nest", "the broken bridge", "an unexpected result" };
    private static readonly string[] Tails = { ".", " yesterday.", " before noon!", ", didn't they?", " (again).", "; nobody noticed.", " in about 15 minutes." };

    /// <summary>100 sentences: the handwritten ones, combinations, and a few long ones.</summary>
    public static IReadOnlyList<string> All()
    {
        var sentences = new List<string>(Handwritten);
        int i = 0;
        while (sentences.Count < 95)
        {
            sentences.Add($"{Subjects[i % Subjects.Length]} {Verbs[(i * 5 + 1) % Verbs.Length]} {Objects[(i * 7 + 2) % Objects.Length]}{Tails[(i * 3) % Tails.Length]}");
            i++;
        }

        for (int n = 0; n < 5; n++)
        {
            var parts = new List<string>();
            for (int k = 0; k <= 3 * n + 2; k++)
                parts.Add($"{Subjects[(n + k) % Subjects.Length]} {Verbs[(n * 2 + k) % Verbs.Length]} {Objects[(n + 3 * k) % Objects.Length]}");
            sentences.Add(string.Join(", and ", parts) + ".");
        }

        return sentences;
    }
}
