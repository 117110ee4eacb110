using Microsoft.ML.Tokenizers;

namespace Microsoft.ML.DynMoE.Pretrained;

/// <summary>
/// BERT input encoding on a checkpoint's WordPiece vocabulary (Microsoft.ML.Tokenizers' <see cref="BertTokenizer"/>):
/// basic tokenization (uncased vocabularies: lower-casing and accent stripping), <c>[CLS] a [SEP]</c> or
/// <c>[CLS] a [SEP] b [SEP]</c> with token type 0 for the first segment and 1 for the second, truncated to a maximum
/// length that counts the special tokens (pairs: longest segment first, as Hugging Face's default).
/// </summary>
internal sealed class BertTextTokenizer
{
    private readonly BertTokenizer _tokenizer;

    private BertTextTokenizer(BertTokenizer tokenizer) => _tokenizer = tokenizer;

    /// <summary>Creates the tokenizer from a vocab.txt stream.</summary>
    /// <param name="vocabulary">One token a line; the line number is the id.</param>
    /// <param name="lowerCase">True for uncased checkpoints: lower-case and strip accents before WordPiece.</param>
    public static BertTextTokenizer Create(Stream vocabulary, bool lowerCase = true)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        var options = new BertOptions
        {
            LowerCaseBeforeTokenization = lowerCase,
            // Hugging Face's BERT strips accents exactly when it lower-cases (strip_accents unset).
            RemoveNonSpacingMarks = lowerCase,
        };
        return new BertTextTokenizer(BertTokenizer.Create(vocabulary, options));
    }

    /// <summary>The underlying tokenizer.</summary>
    public BertTokenizer Tokenizer => _tokenizer;

    /// <summary>Id of <c>[PAD]</c>.</summary>
    public int PaddingId => _tokenizer.PaddingTokenId;

    /// <summary>Encodes one text or a text pair.</summary>
    /// <param name="text">First segment.</param>
    /// <param name="pair">Second segment, or null.</param>
    /// <param name="maximumLength">Most tokens, special tokens included (at least 2 for a text, 3 for a pair).</param>
    public BertEncoding Encode(string text, string? pair = null, int maximumLength = 128)
    {
        ArgumentNullException.ThrowIfNull(text);
        int specials = pair is null ? 2 : 3;
        if (maximumLength < specials)
            throw new ArgumentOutOfRangeException(nameof(maximumLength), maximumLength, $"maximumLength must be at least {specials}.");

        var first = _tokenizer.EncodeToIds(text, addSpecialTokens: false).ToList();
        List<int>? second = pair is null ? null : _tokenizer.EncodeToIds(pair, addSpecialTokens: false).ToList();
        int budget = maximumLength - specials;
        if (second is null)
        {
            if (first.Count > budget) first.RemoveRange(budget, first.Count - budget);
        }
        else
        {
            // Longest first: drop one token from the end of the longer segment until both fit (ties drop from the second).
            while (first.Count + second.Count > budget)
            {
                var longer = first.Count > second.Count ? first : second;
                longer.RemoveAt(longer.Count - 1);
            }
        }

        var ids = _tokenizer.BuildInputsWithSpecialTokens(first, second);
        var types = _tokenizer.CreateTokenTypeIdsFromSequences(first, second);
        return new BertEncoding(ids.ToArray(), types.ToArray());
    }

    /// <summary>Encodes a batch, padded with <c>[PAD]</c> to its longest row.</summary>
    /// <param name="texts">First segments.</param>
    /// <param name="pairs">Second segments (same count), or null.</param>
    /// <param name="maximumLength">Most tokens per row, special tokens included.</param>
    public BertBatch EncodeBatch(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs = null, int maximumLength = 128)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (pairs is not null && pairs.Count != texts.Count)
            throw new ArgumentException($"pairs has {pairs.Count} entries, texts {texts.Count}.", nameof(pairs));
        var rows = texts.Select((t, i) => Encode(t, pairs?[i], maximumLength)).ToArray();
        return BertBatch.Pad(rows, PaddingId);
    }
}

/// <summary>One encoded input: token ids and token type ids, special tokens included.</summary>
internal sealed record BertEncoding(int[] Ids, int[] TypeIds);

/// <summary>A padded batch, each array row-major <c>[Count, Length]</c>.</summary>
/// <param name="Count">Rows.</param>
/// <param name="Length">Padded length (the longest row).</param>
/// <param name="Ids">Token ids.</param>
/// <param name="TypeIds">Token type ids (0 on padding).</param>
/// <param name="AttentionMask">1 for real tokens, 0 for padding.</param>
internal sealed record BertBatch(int Count, int Length, long[] Ids, long[] TypeIds, long[] AttentionMask)
{
    /// <summary>Pads <paramref name="rows"/> with <paramref name="paddingId"/> to the longest.</summary>
    public static BertBatch Pad(IReadOnlyList<BertEncoding> rows, int paddingId)
    {
        int length = rows.Count == 0 ? 0 : rows.Max(r => r.Ids.Length);
        var ids = new long[rows.Count * length];
        var types = new long[ids.Length];
        var mask = new long[ids.Length];
        Array.Fill(ids, paddingId);
        for (int r = 0; r < rows.Count; r++)
        {
            for (int t = 0; t < rows[r].Ids.Length; t++)
            {
                ids[r * length + t] = rows[r].Ids[t];
                types[r * length + t] = rows[r].TypeIds[t];
                mask[r * length + t] = 1;
            }
        }

        return new BertBatch(rows.Count, length, ids, types, mask);
    }
}
