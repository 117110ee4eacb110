using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Sequence;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Text;

/// <summary>
/// One text column, or a sentence pair joined by the separator, as compact token ids (at most MaximumSequenceLength).
/// Saved as <see cref="SequenceInput.NormalizedTextKind"/>, which records the vocabulary's normalisation; files of the
/// older <see cref="SequenceInput.TextKind"/> load with <see cref="TextNormalization.AsWritten"/>.
/// </summary>
internal sealed class TextSequenceInput(string sentence1, string? sentence2, int maximumLength, TextTruncation truncation, TextVocabulary vocabulary)
    : TextColumnsInput(sentence1, sentence2, maximumLength)
{
    public TextTruncation Truncation { get; } = truncation;

    public TextVocabulary Vocabulary { get; } = vocabulary;

    public override SequenceRowReader CreateReader(DataViewRow row)
    {
        var texts = CreateTextGetter(row);
        return destination =>
        {
            var (first, second) = texts();
            return Vocabulary.Encode(first, second, destination[..MaximumLength], Truncation);
        };
    }

    public override InputEmbedding CreateEmbedding(int modelDimension, Generator generator)
        => new TokenEmbedding("embedding", Vocabulary.Size, modelDimension, MaximumLength, generator);

    public override string? DescribeToken(int value) => Vocabulary.Describe(value);

    private protected override int Kind => NormalizedTextKind;

    public override void CheckEmbedding(CompiledInputEmbedding embedding)
    {
        if (embedding is not CompiledTokenEmbedding tokens || tokens.VocabularySize != Vocabulary.Size || tokens.MaximumTokens < MaximumWidth)
            throw new InvalidDataException($"The DynMoE encoder's token table does not match the model's vocabulary of {Vocabulary.Size} ids and {MaximumWidth} tokens; the model file is damaged.");
    }

    private protected override void SaveCore(BinaryWriter writer)
    {
        SaveColumns(writer);
        writer.Write((int)Truncation);
        Vocabulary.Normalization.Save(writer);
        Vocabulary.Save(writer);
    }

    /// <summary>Reads what <see cref="SaveCore"/> wrote; <paramref name="normalized"/> is false for the older kind, which has no normalisation.</summary>
    public static TextSequenceInput Load(BinaryReader reader, bool normalized)
    {
        var (sentence1, sentence2, maximum) = LoadColumns(reader);
        var truncation = (TextTruncation)reader.ReadInt32();
        if (maximum < 1 || maximum > 1 << 16 || !Enum.IsDefined(truncation))
            throw new InvalidDataException($"The DynMoE text model records a maximum length of {maximum} and truncation {(int)truncation}; the file is damaged.");
        var normalization = normalized ? TextNormalization.Load(reader) : TextNormalization.AsWritten;
        return new TextSequenceInput(sentence1, sentence2, maximum, truncation, TextVocabulary.Load(reader, normalization));
    }
}
