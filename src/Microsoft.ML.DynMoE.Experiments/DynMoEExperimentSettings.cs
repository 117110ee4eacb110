
namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>Settings of a <see cref="DynMoEExperiment"/> (mirrors AutoML's <c>AutoMLExperimentSettings</c>).</summary>
    public sealed class DynMoEExperimentSettings
    {
        /// <summary>Seed for fold assignment, trainers and random search. Defaults to the <see cref="MLContext"/> seed, or 0 when that has none.</summary>
        public int? Seed { get; set; }

        /// <summary>Time budget in seconds. No new trial starts once it is used; a running trial finishes. Default 86400.</summary>
        public uint MaxExperimentTimeInSeconds { get; set; } = 86400;

        /// <summary>Maximum number of trials. Default: no limit.</summary>
        public int MaxModels { get; set; } = int.MaxValue;

        /// <summary>Cancellation token; combined with the token passed to <see cref="DynMoEExperiment.RunAsync"/>.</summary>
        public CancellationToken CancellationToken { get; set; }

        /// <summary>Label column name. Default "Label".</summary>
        public string LabelColumnName { get; set; } = "Label";

        /// <summary>Feature column produced by the featurizer (or present in the data). Default "Features".</summary>
        public string FeatureColumnName { get; set; } = "Features";

        /// <summary>Optional example weight column.</summary>
        public string? ExampleWeightColumnName { get; set; }

        /// <summary>
        /// A free-text column: the neural candidates become DynMoE Transformer text classifiers reading it, and the ML.NET
        /// candidates train on <c>FeaturizeText</c> of it (written to <see cref="FeatureColumnName"/>). Default null (tabular).
        /// </summary>
        public string? TextColumnName { get; set; }

        /// <summary>Most tokens per text for the text candidates. Default null: 256, or 128 with a pretrained <see cref="TextEncoder"/>.</summary>
        public int? MaximumSequenceLength { get; set; }

        /// <summary>The text candidates' encoder: a Transformer from scratch (default) or a pretrained one to fine-tune.</summary>
        public DynMoETextEncoder TextEncoder { get; set; } = DynMoETextEncoder.Scratch;

        /// <summary>
        /// Image height in pixels: when set (with <see cref="ImageWidth"/>), <see cref="FeatureColumnName"/> holds pixels in
        /// ExtractPixels layout and the neural candidates become DynMoE Vision Transformers; the ML.NET candidates read the
        /// raw pixels. Default 0 (not an image experiment).
        /// </summary>
        public int ImageHeight { get; set; }

        /// <summary>Image width in pixels (see <see cref="ImageHeight"/>).</summary>
        public int ImageWidth { get; set; }

        /// <summary>Channels per pixel of the image candidates; 0 infers it from the vector size. Default 0.</summary>
        public int Channels { get; set; }

        /// <summary>Patch side of the image candidates; must divide the height and width. Default 0 (the image trainer's default).</summary>
        public int PatchSize { get; set; }

        /// <summary>Pixel-major pixels (ExtractPixels(interleavePixelColors: true)) for the image candidates. Default false.</summary>
        public bool InterleavedColors { get; set; }

        /// <summary>What the neural candidates read: tabular features, text or images.</summary>
        public ExperimentModality Modality => TextColumnName is not null ? ExperimentModality.Text : ImageHeight > 0 ? ExperimentModality.Image : ExperimentModality.Tabular;

        /// <summary>Epoch budget shared by every neural candidate (DynMoE, top-k and dense). Default 30.</summary>
        public int NumberOfEpochs { get; set; } = 30;

        /// <summary>Hidden size of the neural candidates. Default 64.</summary>
        public int ModelDimension { get; set; } = 64;

        /// <summary>Hidden size of one expert. Default 64. The dense candidate uses 2x this width (the compute of top-2 routing).</summary>
        public int ExpertHiddenDimension { get; set; } = 64;

        /// <summary>Number of MoE layers of the neural candidates. Default 2.</summary>
        public int NumberOfLayers { get; set; } = 2;

        /// <summary>Mini-batch size of the neural candidates. Default 64.</summary>
        public int BatchSize { get; set; } = 64;

        /// <summary>Learning rate of the neural candidates. Default 3e-3.</summary>
        public float LearningRate { get; set; } = 3e-3f;

        /// <summary>DynMoE candidate: top-any auxiliary loss (trainer option <c>AuxiliaryLoss</c>); null keeps the trainer's default.</summary>
        public AuxiliaryLossKind? AuxiliaryLoss { get; set; }

        /// <summary>DynMoE candidate: initial threshold θ (trainer option <c>ThresholdInitialization</c>); null keeps the trainer's default.</summary>
        public float? ThresholdInitialization { get; set; }

        /// <summary>DynMoE candidate: weights of an added expert (trainer option <c>NewExpertInitialization</c>); null keeps the trainer's default.</summary>
        public NewExpertInitialization? NewExpertInitialization { get; set; }

        /// <summary>DynMoE candidate: reset an added expert's AdamW state (trainer option <c>ResetNewExpertOptimizerState</c>); null keeps the trainer's default.</summary>
        public bool? ResetNewExpertOptimizerState { get; set; }

        /// <summary>DynMoE candidate: warm-up steps of an added expert (trainer option <c>NewExpertWarmupSteps</c>); null keeps the trainer's default.</summary>
        public int? NewExpertWarmupSteps { get; set; }

        /// <summary>DynMoE candidate: gate learning-rate multiplier (trainer option <c>GateLearningRateMultiplier</c>); null keeps the trainer's default.</summary>
        public float? GateLearningRateMultiplier { get; set; }

        /// <summary>DynMoE candidate: dropout on the MoE layers' (and attentions') outputs (trainer option <c>Dropout</c>); null keeps the trainer's default.</summary>
        public float? Dropout { get; set; }

        /// <summary>DynMoE candidate: adaptation schedule (trainer option <c>Adaptation</c>); null keeps the trainer's default.</summary>
        public AdaptationSchedule? Adaptation { get; set; }

        /// <summary>Copies the DynMoE method settings that are set onto trainer options.</summary>
        internal void ApplyDynMoEOptions(DynMoETrainerOptionsBase o)
        {
            if (AuxiliaryLoss is { } aux) o.AuxiliaryLoss = aux;
            if (ThresholdInitialization is { } theta) o.ThresholdInitialization = theta;
            if (NewExpertInitialization is { } init) o.NewExpertInitialization = init;
            if (ResetNewExpertOptimizerState is { } reset) o.ResetNewExpertOptimizerState = reset;
            if (NewExpertWarmupSteps is { } warmup) o.NewExpertWarmupSteps = warmup;
            if (GateLearningRateMultiplier is { } gate) o.GateLearningRateMultiplier = gate;
            if (Adaptation is not null) o.Adaptation = Adaptation;
            if (Dropout is { } dropout) o.Dropout = dropout;
        }

        /// <summary>CPU threads of every neural candidate (DynMoE trainer option <c>NumberOfThreads</c>). Default 1, like the ML.NET candidates,
        /// so training times compare like with like.</summary>
        public int NumberOfThreads { get; set; } = 1;

        /// <summary>After the search, refit the best candidate on all data (cross-validation) into <see cref="DynMoEExperimentResult.BestModel"/>. Default true.</summary>
        public bool RefitBestModel { get; set; } = true;

        /// <summary>Before the first trial, fit the first neural candidate for one epoch on fold 1 (untimed, discarded), so that
        /// TorchSharp's native load and JIT compilation are not billed to whichever neural candidate runs first. Default true.</summary>
        public bool WarmUp { get; set; } = true;

        internal DynMoEExperimentSettings Clone() => (DynMoEExperimentSettings)MemberwiseClone();
    }

    /// <summary>What the neural candidates of an experiment read.</summary>
    public enum ExperimentModality
    {
        /// <summary>A numeric feature vector: the DynMoE MLP trainers.</summary>
        Tabular,

        /// <summary>A text column: the DynMoE Transformer text classifier.</summary>
        Text,

        /// <summary>A pixel vector: the DynMoE Vision Transformer.</summary>
        Image,
    }
}
