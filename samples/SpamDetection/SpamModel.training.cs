using System.IO;
using Microsoft.ML;
using Microsoft.ML.DynMoE;
using Microsoft.ML.DynMoE.Text;

namespace SpamDetection;

public partial class SpamModel
{
    public const string RetrainFilePath = @"samples/data/spam_assassin/data.csv";
    public const char RetrainSeparatorChar = ',';
    public const bool RetrainHasHeader = true;
    public const bool RetrainAllowQuoting = true;

    /// <summary>Trains a model on a CSV file and saves it to <paramref name="outputModelPath"/>.</summary>
    public static void Train(string outputModelPath, DynMoEBinaryTextClassificationTrainer.Options trainerOptions, string inputDataFilePath = RetrainFilePath,
        char separatorChar = RetrainSeparatorChar, bool hasHeader = RetrainHasHeader, bool allowQuoting = RetrainAllowQuoting)
    {
        var mlContext = new MLContext(seed: 1);
        var data = LoadIDataViewFromFile(mlContext, inputDataFilePath, separatorChar, hasHeader, allowQuoting);
        var model = RetrainModel(mlContext, data, trainerOptions);
        SaveModel(mlContext, model, data, outputModelPath);
    }

    /// <summary>Loads the CSV with the <see cref="ModelInput"/> schema (quoted texts may hold commas).</summary>
    public static IDataView LoadIDataViewFromFile(MLContext mlContext, string inputDataFilePath, char separatorChar, bool hasHeader, bool allowQuoting)
        => mlContext.Data.LoadFromTextFile<ModelInput>(inputDataFilePath, separatorChar, hasHeader, allowQuoting: allowQuoting);

    /// <summary>Saves the model with the input schema, as Model Builder does (a <c>.mlnet</c> file is an ML.NET model zip).</summary>
    public static void SaveModel(MLContext mlContext, ITransformer model, IDataView data, string modelSavePath)
    {
        using var stream = File.Create(modelSavePath);
        mlContext.Model.Save(model, data.Schema, stream);
    }

    /// <summary>Fits <see cref="BuildPipeline"/> on <paramref name="trainData"/>.</summary>
    public static ITransformer RetrainModel(MLContext mlContext, IDataView trainData, DynMoEBinaryTextClassificationTrainer.Options trainerOptions)
        => BuildPipeline(mlContext, trainerOptions).Fit(trainData);

    /// <summary>
    /// The training pipeline: the DynMoE text classifier reads the raw text itself (tokenizer and vocabulary live inside
    /// the model), so no FeaturizeText step; the Boolean label is true for spam.
    /// </summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, DynMoEBinaryTextClassificationTrainer.Options trainerOptions)
    {
        trainerOptions.LabelColumnName = @"Label";
        trainerOptions.Sentence1ColumnName = @"Text";
        return mlContext.BinaryClassification.Trainers.DynMoETextClassification(trainerOptions);
    }
}
