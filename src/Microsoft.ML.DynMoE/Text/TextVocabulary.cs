using Microsoft.ML.Tokenizers;
using Microsoft.ML.Transforms.Text;

namespace Microsoft.ML.DynMoE.Text;

/// <summary>
/// Tokenizes text with tiktoken's <c>cl100k_base</c> (shipped in a NuGet package, nothing is downloaded) and maps the
/// ids seen in training at least <c>MinimumCount</c> times to a compact range, so the embedding table holds only the
/// vocabulary of the data: 0 = padding, 1 = unknown, 2 = separator between a sentence pair, then the kept ids in
/// increasing tiktoken order. The text is normalised first (<see cref="Normalization"/>). The kept ids and the
/// normalisation are saved in the model; tokenization is thread-safe.
/// </summary>
internal sealed class TextVocabulary
{
    public const int PaddingId = 0;
    public const int UnknownId = 1;
    public const int SeparatorId = 2;
    private const int FirstTokenId = 3;
    private const string EncodingName = "cl100k_base";

    private static readonly Lazy<TiktokenTokenizer> SharedTokenizer = new(() => TiktokenTokenizer.CreateForEncoding(EncodingName));

    private readonly int[] _baseIds;                  // compact id - FirstTokenId → tiktoken id
    private readonly Dictionary<int, int> _toCompact; // tiktoken id → compact id

    public TextVocabulary(int[] baseIds, TextNormalization normalization)
    {
        _baseIds = baseIds;
        Normalization = normalization;
        _toCompact = new Dictionary<int, int>(baseIds.Length);
        for (int i = 0; i < baseIds.Length; i++)
            _toCompact[baseIds[i]] = FirstTokenId + i;
    }

    /// <summary>What is done to a text before it is tokenized.</summary>
    public TextNormalization Normalization { get; }

    /// <summary>Ids in the compact range, padding, unknown and separator included.</summary>
    public int Size => FirstTokenId + _baseIds.Length;

    public static Tokenizer Tokenizer => SharedTokenizer.Value;

    /// <summary>tiktoken ids of <paramref name="text"/> after <paramref name="normalization"/> (null or empty gives none).</summary>
    public static IReadOnlyList<int> TokenizeToBaseIds(string? text, TextNormalization normalization)
        => string.IsNullOrEmpty(text) ? Array.Empty<int>() : Tokenizer.EncodeToIds(normalization.Apply(text));

    /// <summary>Keeps the tiktoken ids counted at least <paramref name="minimumCount"/> times.</summary>
    public static TextVocabulary FromCounts(IReadOnlyDictionary<int, int> counts, int minimumCount, TextNormalization normalization)
        => new(counts.Where(p => p.Value >= minimumCount).Select(p => p.Key).OrderBy(id => id).ToArray(), normalization);

    public int ToCompact(int baseId) => _toCompact.TryGetValue(baseId, out int id) ? id : UnknownId;

    /// <summary>The text of a compact id, for routing reports.</summary>
    public string Describe(int compactId) => compactId switch
    {
        PaddingId => "[PAD]",
        UnknownId => "[UNK]",
        SeparatorId => "[SEP]",
        _ when compactId - FirstTokenId < _baseIds.Length => Tokenizer.Decode(new[] { _baseIds[compactId - FirstTokenId] }) ?? "",
        _ => "[?]",
    };

    /// <summary>
    /// Writes the compact ids of one example into <paramref name="destination"/> (length = the budget) and returns how many:
    /// the first text, or both texts joined by the separator, each truncated to its share of the budget.
    /// </summary>
    public int Encode(string? first, string? second, Span<float> destination, TextTruncation truncation)
    {
        int budget = destination.Length;
        var a = TokenizeToBaseIds(first, Normalization);
        if (second is null)
            return Write(a, destination, truncation);

        var b = TokenizeToBaseIds(second, Normalization);
        // The pair shares the budget less the separator; the shorter text keeps all it has, the longer takes the rest.
        int room = Math.Max(0, budget - 1);
        int firstShare = Math.Min(a.Count, Math.Max(room / 2, room - b.Count));
        int written = Write(a, destination[..firstShare], truncation);
        if (written >= budget)
            return written;
        destination[written++] = SeparatorId;
        return written + Write(b, destination[written..], truncation);
    }

    private int Write(IReadOnlyList<int> ids, Span<float> destination, TextTruncation truncation)
    {
        int count = Math.Min(ids.Count, destination.Length);
        int head = truncation == TextTruncation.HeadAndTail && ids.Count > count ? (count + 1) / 2 : count;
        for (int i = 0; i < head; i++)
            destination[i] = ToCompact(ids[i]);
        for (int i = head; i < count; i++)
            destination[i] = ToCompact(ids[ids.Count - (count - i)]);
        return count;
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write(EncodingName);
        writer.Write(_baseIds.Length);
        foreach (int id in _baseIds)
            writer.Write(id);
    }

    public static TextVocabulary Load(BinaryReader reader, TextNormalization normalization)
    {
        string encoding = reader.ReadString();
        if (encoding != EncodingName)
            throw new InvalidDataException($"The DynMoE text model uses the '{encoding}' tokenizer; this build has '{EncodingName}'.");
        int count = reader.ReadInt32();
        if (count < 0 || count > 10_000_000)
            throw new InvalidDataException($"The DynMoE text vocabulary records {count} tokens.");
        var ids = new int[count];
        for (int i = 0; i < count; i++)
        {
            ids[i] = reader.ReadInt32();
            if (ids[i] < 0 || (i > 0 && ids[i] <= ids[i - 1]))
                throw new InvalidDataException("The DynMoE text vocabulary is not a strictly increasing list of token ids; the model file is damaged.");
        }

        return new TextVocabulary(ids, normalization);
    }
}

/// <summary>
/// What the tokenizer from scratch does to a text first. <c>cl100k_base</c> is case- and space-sensitive ("Great",
/// " great" and "great" are different ids), which splits a word's evidence on a small corpus: a leading space gives a
/// text's first word the id it has inside a sentence, and <see cref="CaseMode"/> folds case as <c>FeaturizeText</c> does.
/// Models saved before this existed tokenize as written (<see cref="AsWritten"/>).
/// </summary>
/// <param name="CaseMode">Lower- or upper-cases the text (invariant culture), or keeps it.</param>
/// <param name="LeadingSpace">Starts a text that does not begin with white space with one space.</param>
internal readonly record struct TextNormalization(TextNormalizingEstimator.CaseMode CaseMode, bool LeadingSpace)
{
    /// <summary>The text unchanged: the tokenizer of models saved before normalisation.</summary>
    public static TextNormalization AsWritten => new(TextNormalizingEstimator.CaseMode.None, false);

    public string Apply(string text)
    {
        string cased = CaseMode switch
        {
            TextNormalizingEstimator.CaseMode.Lower => text.ToLowerInvariant(),
            TextNormalizingEstimator.CaseMode.Upper => text.ToUpperInvariant(),
            _ => text,
        };
        return LeadingSpace && cased.Length > 0 && !char.IsWhiteSpace(cased[0]) ? " " + cased : cased;
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write((int)CaseMode);
        writer.Write(LeadingSpace);
    }

    public static TextNormalization Load(BinaryReader reader)
    {
        var caseMode = (TextNormalizingEstimator.CaseMode)reader.ReadInt32();
        if (!Enum.IsDefined(caseMode))
            throw new InvalidDataException($"The DynMoE text model records case mode {(int)caseMode}; the file is damaged or from a newer version.");
        return new TextNormalization(caseMode, reader.ReadBoolean());
    }
}
