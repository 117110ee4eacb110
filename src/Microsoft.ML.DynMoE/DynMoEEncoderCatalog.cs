namespace Microsoft.ML;

/// <summary>
/// DynMoE Transformer trainers on ML.NET's catalogs: <c>BinaryClassification.Trainers.DynMoETextClassification</c>,
/// <c>MulticlassClassification.Trainers.DynMoETextClassification</c> and <c>MulticlassClassification.Trainers.DynMoEImageClassification</c>.
/// A parameter left null keeps the <c>Options</c> default.
/// </summary>
public static class DynMoEEncoderCatalog
{
    /// <summary>Creates a DynMoE text classifier for a Boolean label; see <see cref="DynMoEBinaryTextClassificationTrainer.Options"/> for all settings.</summary>
    /// <param name="catalog">The binary trainers catalog.</param>
    /// <param name="labelColumnName">Boolean label column.</param>
    /// <param name="sentence1ColumnName">Text column.</param>
    /// <param name="sentence2ColumnName">Optional second text of a sentence pair.</param>
    /// <param name="gating">Top-any (DynMoE), top-k or dense.</param>
    /// <param name="numberOfEpochs">Passes over the data.</param>
    /// <param name="maximumSequenceLength">Most tokens per example.</param>
    /// <param name="learningRate">Peak learning rate.</param>
    /// <param name="encoder">A Transformer from scratch or a pretrained encoder to fine-tune.</param>
    public static DynMoEBinaryTextClassificationTrainer DynMoETextClassification(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label, string sentence1ColumnName = "Text", string? sentence2ColumnName = null,
        GatingKind? gating = null, int? numberOfEpochs = null, int? maximumSequenceLength = null, float? learningRate = null, DynMoETextEncoder? encoder = null)
        => catalog.DynMoETextClassification(TextOptions(new DynMoEBinaryTextClassificationTrainer.Options(), labelColumnName, sentence1ColumnName, sentence2ColumnName, gating, numberOfEpochs, maximumSequenceLength, learningRate, encoder));

    /// <summary>Creates a DynMoE text classifier for a Boolean label from options.</summary>
    /// <param name="catalog">The binary trainers catalog.</param>
    /// <param name="options">Trainer options.</param>
    public static DynMoEBinaryTextClassificationTrainer DynMoETextClassification(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, DynMoEBinaryTextClassificationTrainer.Options options)
        => new(CatalogUtils.GetEnvironment(catalog), options);

    /// <summary>Creates a DynMoE text classifier for a key label; see <see cref="DynMoEMulticlassTextClassificationTrainer.Options"/> for all settings.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Key label column (use MapValueToKey).</param>
    /// <param name="sentence1ColumnName">Text column.</param>
    /// <param name="sentence2ColumnName">Optional second text of a sentence pair.</param>
    /// <param name="gating">Top-any (DynMoE), top-k or dense.</param>
    /// <param name="numberOfEpochs">Passes over the data.</param>
    /// <param name="maximumSequenceLength">Most tokens per example.</param>
    /// <param name="learningRate">Peak learning rate.</param>
    /// <param name="encoder">A Transformer from scratch or a pretrained encoder to fine-tune.</param>
    public static DynMoEMulticlassTextClassificationTrainer DynMoETextClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label, string sentence1ColumnName = "Text", string? sentence2ColumnName = null,
        GatingKind? gating = null, int? numberOfEpochs = null, int? maximumSequenceLength = null, float? learningRate = null, DynMoETextEncoder? encoder = null)
        => catalog.DynMoETextClassification(TextOptions(new DynMoEMulticlassTextClassificationTrainer.Options(), labelColumnName, sentence1ColumnName, sentence2ColumnName, gating, numberOfEpochs, maximumSequenceLength, learningRate, encoder));

    /// <summary>Creates a DynMoE text classifier for a key label from options.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="options">Trainer options.</param>
    public static DynMoEMulticlassTextClassificationTrainer DynMoETextClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, DynMoEMulticlassTextClassificationTrainer.Options options)
        => new(CatalogUtils.GetEnvironment(catalog), options);

    /// <summary>Creates a DynMoE Vision Transformer for a key label; see <see cref="DynMoEImageClassificationTrainer.Options"/> for all settings.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="imageHeight">Image height in pixels.</param>
    /// <param name="imageWidth">Image width in pixels.</param>
    /// <param name="labelColumnName">Key label column (use MapValueToKey).</param>
    /// <param name="featureColumnName">Known-size Single vector of height × width × channels pixels (ExtractPixels layout).</param>
    /// <param name="patchSize">Side of the square patches; divides the height and the width.</param>
    /// <param name="interleavedColors">Pixel-major input, as ExtractPixels(interleavePixelColors: true) gives.</param>
    /// <param name="gating">Top-any (DynMoE), top-k or dense.</param>
    /// <param name="numberOfEpochs">Passes over the data.</param>
    /// <param name="learningRate">Peak learning rate.</param>
    public static DynMoEImageClassificationTrainer DynMoEImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        int imageHeight, int imageWidth, string labelColumnName = DefaultColumnNames.Label, string featureColumnName = DefaultColumnNames.Features,
        int? patchSize = null, bool? interleavedColors = null, GatingKind? gating = null, int? numberOfEpochs = null, float? learningRate = null)
    {
        var options = new DynMoEImageClassificationTrainer.Options
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            ImageHeight = imageHeight,
            ImageWidth = imageWidth,
        };
        if (patchSize is int p) options.PatchSize = p;
        if (interleavedColors is bool i) options.InterleavedColors = i;
        DynMoECatalog.ApplyCommon(options, gating, null, numberOfEpochs, null, learningRate);
        return catalog.DynMoEImageClassification(options);
    }

    /// <summary>Creates a DynMoE Vision Transformer from options.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="options">Trainer options.</param>
    public static DynMoEImageClassificationTrainer DynMoEImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, DynMoEImageClassificationTrainer.Options options)
        => new(CatalogUtils.GetEnvironment(catalog), options);

    private static TOptions TextOptions<TOptions>(TOptions options, string label, string sentence1, string? sentence2, GatingKind? gating, int? epochs, int? maximumLength, float? learningRate, DynMoETextEncoder? encoder)
        where TOptions : DynMoETextOptionsBase
    {
        if (encoder is DynMoETextEncoder e) options.Encoder = e;
        options.LabelColumnName = label;
        options.Sentence1ColumnName = sentence1;
        options.Sentence2ColumnName = sentence2;
        if (maximumLength is int length) options.MaximumSequenceLength = length;
        DynMoECatalog.ApplyCommon(options, gating, null, epochs, null, learningRate);
        return options;
    }
}
