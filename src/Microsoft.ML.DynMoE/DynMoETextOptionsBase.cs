using Microsoft.ML.DynMoE.Pretrained;
using Microsoft.ML.Transforms.Text;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// Options of the DynMoE text classifiers (binary and multiclass): the encoder options plus where the text comes from
/// and how it becomes tokens. <c>FeatureColumnName</c> is not used: the text comes from <see cref="Sentence1ColumnName"/>
/// (and <see cref="Sentence2ColumnName"/>).
/// </summary>
public abstract class DynMoETextOptionsBase : DynMoEEncoderOptionsBase
{
    /// <summary>
    /// Text from scratch trains with dropout 0.1: the defaults study's text selection (docs/defaults-study.md) ranked it
    /// first of ten configurations on a topic corpus where models differ. A pretrained encoder keeps its checkpoint's
    /// own dropout; this one applies to its DynMoE head when the encoder is frozen.
    /// </summary>
    private protected DynMoETextOptionsBase()
    {
        Dropout = 0.1f;
    }

    /// <summary>The text column (default "Text").</summary>
    public string Sentence1ColumnName = "Text";

    /// <summary>Second text of a sentence pair, joined to the first by a separator token (default none).</summary>
    public string? Sentence2ColumnName;

    /// <summary>
    /// Most tokens per example, the pair's separator (and a pretrained encoder's special tokens) included; longer texts
    /// are truncated. Null (the default): 256 for an encoder trained from scratch, 128 for a pretrained one.
    /// </summary>
    public int? MaximumSequenceLength;

    /// <summary>
    /// The encoder (default <see cref="DynMoETextEncoder.Scratch"/>). With a pretrained encoder, the text is tokenized
    /// by the checkpoint's WordPiece vocabulary, every FFN of the blocks <see cref="DynMoEEncoderOptionsBase.MoELayers"/>
    /// chooses is upcycled into <see cref="DynMoETrainerOptionsBase.MaximumExperts"/> copies routed by
    /// <see cref="DynMoETrainerOptionsBase.Gating"/>, and a linear head reads the mean-pooled last hidden states. The
    /// shape options (ModelDimension, NumberOfLayers, NumberOfHeads, ExpertHiddenDimension, MinimumTokenCount, CaseMode,
    /// Truncation, Pooling) then come from the checkpoint and are not used.
    /// </summary>
    public DynMoETextEncoder Encoder = DynMoETextEncoder.Scratch;

    /// <summary>What fine-tuning a pretrained encoder trains (default <see cref="DynMoEFineTuning.Full"/>).</summary>
    public DynMoEFineTuning FineTuning = DynMoEFineTuning.Full;

    /// <summary>
    /// A BERT-family encoder exported to ONNX (as PyTorch exports it) to fine-tune instead of <see cref="Encoder"/>;
    /// set together with <see cref="PretrainedVocabularyPath"/>. Default none.
    /// </summary>
    public string? PretrainedModelPath;

    /// <summary>The WordPiece vocabulary (vocab.txt) of <see cref="PretrainedModelPath"/>'s model. Default none.</summary>
    public string? PretrainedVocabularyPath;

    /// <summary>True when the vocabulary at <see cref="PretrainedVocabularyPath"/> is uncased (default true).</summary>
    public bool PretrainedLowerCase = true;

    /// <summary>
    /// The pretrained weights' learning rate as a fraction of <see cref="DynMoETrainerOptionsBase.LearningRate"/>
    /// (default 0.05: 5e-5 beside the head's and new gates' 1e-3), so fine-tuning adapts the checkpoint without
    /// overwriting it while the freshly initialised parts learn at the usual rate.
    /// </summary>
    public float PretrainedLearningRateMultiplier = 0.05f;

    /// <summary>True when the text goes through a pretrained encoder (<see cref="Encoder"/> or the paths).</summary>
    internal bool UsesPretrainedEncoder => Encoder != DynMoETextEncoder.Scratch || PretrainedModelPath is not null;

    /// <summary>The longest token sequence: <see cref="MaximumSequenceLength"/> or the encoder kind's default.</summary>
    internal int EffectiveMaximumSequenceLength => MaximumSequenceLength ?? (UsesPretrainedEncoder ? 128 : 256);

    /// <summary>Where the pretrained checkpoint comes from (the files when set, else <see cref="Encoder"/>'s package).</summary>
    internal PretrainedBertSource OpenPretrainedSource()
        => PretrainedModelPath is string model
            ? PretrainedBertSource.FromFiles(model, PretrainedVocabularyPath!, PretrainedLowerCase)
            : PretrainedBertSource.MiniLM();

    /// <summary>Which tokens of a long text are kept (default <see cref="TextTruncation.Head"/>).</summary>
    public TextTruncation Truncation = TextTruncation.Head;

    /// <summary>Tokens seen fewer times in the training texts map to the unknown token (default 2).</summary>
    public int MinimumTokenCount = 2;

    /// <summary>
    /// How the encoder from scratch folds case before tokenizing, as <c>FeaturizeText</c>'s option of the same name
    /// (default <see cref="TextNormalizingEstimator.CaseMode.Lower"/>, chosen in the defaults study: on a small corpus
    /// a word's evidence is otherwise split over its capitalised and lower-case token ids; <see cref="TextNormalizingEstimator.CaseMode.None"/>
    /// keeps case). In every mode the text is started with a space, so its first word takes the id it has inside a
    /// sentence. A pretrained encoder follows its vocabulary's casing (<see cref="PretrainedLowerCase"/>) instead.
    /// </summary>
    public TextNormalizingEstimator.CaseMode CaseMode = TextNormalizingEstimator.CaseMode.Lower;

    internal override void Validate()
    {
        base.Validate();
        Check(!string.IsNullOrEmpty(Sentence1ColumnName), nameof(Sentence1ColumnName), Sentence1ColumnName, "must name the text column");
        Check(Sentence2ColumnName is null || Sentence2ColumnName.Length > 0, nameof(Sentence2ColumnName), Sentence2ColumnName, "must be null or name a text column");
        Check(MaximumSequenceLength is null or (>= 1 and <= 8192), nameof(MaximumSequenceLength), MaximumSequenceLength, "must be null or between 1 and 8192");
        Check(Sentence2ColumnName is null || EffectiveMaximumSequenceLength >= 3, nameof(MaximumSequenceLength), MaximumSequenceLength, "must be at least 3 for a sentence pair");
        Check(!UsesPretrainedEncoder || EffectiveMaximumSequenceLength >= 2, nameof(MaximumSequenceLength), MaximumSequenceLength, "must be at least 2 with a pretrained encoder ([CLS] and [SEP])");
        Check(Enum.IsDefined(Encoder), nameof(Encoder), Encoder, "must be Scratch or MiniLM");
        Check(Enum.IsDefined(FineTuning), nameof(FineTuning), FineTuning, "must be Full or FrozenEncoder");
        Check(FineTuning == DynMoEFineTuning.Full || UsesPretrainedEncoder, nameof(FineTuning), FineTuning,
            "must be Full with a Transformer from scratch (FrozenEncoder freezes a pretrained encoder: set Encoder or PretrainedModelPath)");
        Check((PretrainedModelPath is null) == (PretrainedVocabularyPath is null), nameof(PretrainedVocabularyPath), PretrainedVocabularyPath,
            "must be set exactly when PretrainedModelPath is (the ONNX model and its vocab.txt go together)");
        Check(PretrainedModelPath is null || PretrainedModelPath.Length > 0, nameof(PretrainedModelPath), PretrainedModelPath, "must be null or the path of a BERT-family ONNX model");
        Check(PretrainedVocabularyPath is null || PretrainedVocabularyPath.Length > 0, nameof(PretrainedVocabularyPath), PretrainedVocabularyPath, "must be null or the path of the model's vocab.txt");
        Check(PretrainedModelPath is null || Encoder == DynMoETextEncoder.Scratch, nameof(PretrainedModelPath), PretrainedModelPath, $"must be null when Encoder is {Encoder} (choose the packaged encoder or your own files, not both)");
        Check(float.IsFinite(PretrainedLearningRateMultiplier) && PretrainedLearningRateMultiplier > 0 && PretrainedLearningRateMultiplier <= 1,
            nameof(PretrainedLearningRateMultiplier), PretrainedLearningRateMultiplier, "must be in (0, 1]");
        Check(Enum.IsDefined(Truncation), nameof(Truncation), Truncation, "must be Head or HeadAndTail");
        Check(MinimumTokenCount >= 1, nameof(MinimumTokenCount), MinimumTokenCount, "must be at least 1");
        Check(Enum.IsDefined(CaseMode), nameof(CaseMode), CaseMode, "must be Lower, Upper or None");
    }
}
