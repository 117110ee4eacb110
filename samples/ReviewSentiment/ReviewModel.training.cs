using System.IO;
using Microsoft.ML;
using Microsoft.ML.DynMoE;
using Microsoft.ML.DynMoE.Text;

namespace ReviewSentiment;

public partial class ReviewModel
{
    /// <summary>Loads the CSV with the <see cref="ModelInput"/> schema (quoted sentences may hold commas).</summary>
    public static IDataView LoadIDataViewFromFile(MLContext mlContext, string inputDataFilePath, char separatorChar, bool hasHeader, bool allowQuoting)
        => mlContext.Data.LoadFromTextFile<ModelInput>(inputDataFilePath, separatorChar, hasHeader, allowQuoting: allowQuoting);

    /// <summary>Saves the model with the input schema, as Model Builder does (a <c>.mlnet</c> file is an ML.NET model zip).</summary>
    public static void SaveModel(MLContext mlContext, ITransformer model, IDataView data, string modelSavePath)
    {
        using var stream = File.Create(modelSavePath);
        mlContext.Model.Save(model, data.Schema, stream);
    }

    /// <summary>
    /// The training pipeline: the DynMoE text classifier reads the raw text itself (MiniLM's WordPiece tokenizer and
    /// vocabulary live inside the model), so no FeaturizeText step; the Boolean label is true for a positive review.
    /// </summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, DynMoEBinaryTextClassificationTrainer.Options trainerOptions)
    {
        trainerOptions.LabelColumnName = @"Label";
        trainerOptions.Sentence1ColumnName = @"Text";
        return mlContext.BinaryClassification.Trainers.DynMoETextClassification(trainerOptions);
    }

    /// <summary>The usual ML.NET text baseline on the same split: n-gram features and a linear model.</summary>
    public static IEstimator<ITransformer> BuildBaselinePipeline(MLContext mlContext)
        => mlContext.Transforms.Text.FeaturizeText(@"Features", @"Text")
            .Append(mlContext.BinaryClassification.Trainers.SdcaLogisticRegression(labelColumnName: @"Label", featureColumnName: @"Features"));
}
