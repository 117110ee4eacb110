using System.Text;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.DynMoE.Text;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Pretrained;

/// <summary>
/// One text column or a sentence pair through a pretrained checkpoint's WordPiece tokenizer (<see cref="BertTextTokenizer"/>:
/// <c>[CLS] a [SEP] (b [SEP])</c>, at most MaximumSequenceLength tokens). Each token is one float of the row,
/// <c>1 + id + type · V</c> (V the vocabulary size), so the shared batch source pads with 0 as it does for every encoder
/// and the network recovers ids, token types and the padding mask from one value (exact in float32 below 2^24).
/// The vocabulary text is saved in the model, so a saved model tokenizes without the checkpoint's package.
/// </summary>
internal sealed class BertSequenceInput : TextColumnsInput
{
    private readonly string _vocabularyText;
    private readonly string[] _tokens;
    private readonly BertTextTokenizer _tokenizer;

    public BertSequenceInput(string sentence1, string? sentence2, int maximumLength, string vocabularyText, bool lowerCase)
        : base(sentence1, sentence2, maximumLength)
    {
        LowerCase = lowerCase;
        _vocabularyText = vocabularyText;
        _tokens = vocabularyText.Split('\n').Select(t => t.TrimEnd('\r')).ToArray();
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(vocabularyText));
        _tokenizer = BertTextTokenizer.Create(stream, lowerCase);
        if (_tokens.Length > 0 && _tokens[^1].Length == 0)
            _tokens = _tokens[..^1];
    }

    public bool LowerCase { get; }

    /// <summary>Word pieces in the vocabulary (the token-type stride of the row encoding).</summary>
    public int VocabularySize => _tokens.Length;

    private protected override int Kind => PretrainedTextKind;

    /// <summary>Reads the vocabulary of <paramref name="source"/> as text.</summary>
    public static BertSequenceInput Create(PretrainedBertSource source, string sentence1, string? sentence2, int maximumLength)
    {
        using var stream = source.OpenVocabulary();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return new BertSequenceInput(sentence1, sentence2, maximumLength, reader.ReadToEnd(), source.LowerCase);
    }

    /// <summary>The row value of token <paramref name="id"/> of segment <paramref name="type"/>.</summary>
    public static float EncodeToken(int id, int type, int vocabularySize) => 1 + id + (float)type * vocabularySize;

    /// <summary>The token id and type of row value <paramref name="value"/> (which must not be padding).</summary>
    public static (int Id, int Type) DecodeToken(float value, int vocabularySize)
    {
        int code = (int)value - 1;
        return (code % vocabularySize, code / vocabularySize);
    }

    public override SequenceRowReader CreateReader(DataViewRow row)
    {
        var texts = CreateTextGetter(row);
        int v = VocabularySize;
        return destination =>
        {
            var (first, second) = texts();
            var encoding = _tokenizer.Encode(first, second, MaximumLength);
            for (int t = 0; t < encoding.Ids.Length; t++)
                destination[t] = EncodeToken(encoding.Ids[t], encoding.TypeIds[t], v);
            return encoding.Ids.Length;
        };
    }

    /// <summary>Not used: a pretrained encoder has its own embeddings (<see cref="BertEmbeddings"/>).</summary>
    public override InputEmbedding CreateEmbedding(int modelDimension, Generator generator)
        => throw new InvalidOperationException("A pretrained text input is embedded by the checkpoint's own embeddings.");

    public override string? DescribeToken(int value)
    {
        var (id, _) = DecodeToken(value, VocabularySize);
        return (uint)id < (uint)_tokens.Length ? _tokens[id] : null;
    }

    public override void CheckEmbedding(CompiledInputEmbedding embedding)
        => throw new InvalidDataException("The DynMoE model pairs a pretrained text input with a Transformer trained from scratch; the model file is damaged.");

    /// <summary>Throws <see cref="InvalidDataException"/> when <paramref name="encoder"/> cannot read this input.</summary>
    public void CheckEncoder(CompiledBertEncoder encoder)
    {
        if (encoder.VocabularySize != VocabularySize || encoder.MaximumPositions < MaximumLength)
            throw new InvalidDataException($"The DynMoE pretrained encoder's tables ({encoder.VocabularySize} word pieces, {encoder.MaximumPositions} positions) do not match the model's vocabulary of {VocabularySize} word pieces and {MaximumLength} tokens; the model file is damaged.");
    }

    private protected override void SaveCore(BinaryWriter writer)
    {
        SaveColumns(writer);
        writer.Write(LowerCase);
        writer.Write(_vocabularyText);
    }

    public static new BertSequenceInput Load(BinaryReader reader)
    {
        var (sentence1, sentence2, maximum) = LoadColumns(reader);
        if (maximum < 2 || maximum > 1 << 16)
            throw new InvalidDataException($"The DynMoE pretrained text model records a maximum length of {maximum}; the file is damaged.");
        bool lowerCase = reader.ReadBoolean();
        return new BertSequenceInput(sentence1, sentence2, maximum, reader.ReadString(), lowerCase);
    }
}
