// Types of examples/browse-setup.js, for the TypeScript tests that drive the example's setup.
import type { FastifyInstance } from 'fastify'
import type { BrowseOptions, UploadMode } from '../src/index.js'

export declare const NAMESPACE: string
export declare function browseOptions (options?: { uploadMode?: UploadMode, templateFolder?: string, basePath?: string }): BrowseOptions
export declare function sampleFiles (): Record<string, string | Buffer>
export declare function seedSamples (app: FastifyInstance, options?: { basePath?: string }): Promise<boolean>
