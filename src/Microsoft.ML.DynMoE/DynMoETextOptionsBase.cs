
namespace Microsoft.ML.DynMoE;

/// <summary>
/// Options of the DynMoE text classifiers (binary and multiclass): the encoder options plus where the text comes from
/// and how it becomes tokens. <c>FeatureColumnName</c> is not used: the text comes from <see cref="Sentence1ColumnName"/>
/// (and <see cref="Sentence2ColumnName"/>).
/// </summary>
public abstract class DynMoETextOptionsBase : DynMoEEncoderOptionsBase
{
    /// <summary>The text column (default "Text").</summary>
    public string Sentence1ColumnName = "Text";

    /// <summary>Second text of a sentence pair, joined to the first by a separator token (default none).</summary>
    public string? Sentence2ColumnName;

    /// <summary>Most tokens per example, the pair's separator included (default 256); longer texts are truncated.</summary>
    public int MaximumSequenceLength = 256;

    /// <summary>Which tokens of a long text are kept (default <see cref="TextTruncation.Head"/>).</summary>
    public TextTruncation Truncation = TextTruncation.Head;

    /// <summary>Tokens seen fewer times in the training texts map to the unknown token (default 2).</summary>
    public int MinimumTokenCount = 2;

    internal override void Validate()
    {
        base.Validate();
        Check(!string.IsNullOrEmpty(Sentence1ColumnName), nameof(Sentence1ColumnName), Sentence1ColumnName, "must name the text column");
        Check(Sentence2ColumnName is null || Sentence2ColumnName.Length > 0, nameof(Sentence2ColumnName), Sentence2ColumnName, "must be null or name a text column");
        Check(MaximumSequenceLength is >= 1 and <= 8192, nameof(MaximumSequenceLength), MaximumSequenceLength, "must be between 1 and 8192");
        Check(Sentence2ColumnName is null || MaximumSequenceLength >= 3, nameof(MaximumSequenceLength), MaximumSequenceLength, "must be at least 3 for a sentence pair");
        Check(Enum.IsDefined(Truncation), nameof(Truncation), Truncation, "must be Head or HeadAndTail");
        Check(MinimumTokenCount >= 1, nameof(MinimumTokenCount), MinimumTokenCount, "must be at least 1");
    }
}
