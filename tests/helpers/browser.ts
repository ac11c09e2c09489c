/**
 * Debian's Chromium driven by playwright-core, for the dashboard tests: headless, no network
 * beyond 127.0.0.1, a fresh profile per launch, and every console error or page error collected
 * so that a test can fail on it.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';

/** Where `.ci/run` installs Chromium (`apt-get install -y chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/** True when Chromium is installed (or the run requires it: then its absence fails the tests). */
export const browserAvailable = existsSync(CHROMIUM) || process.env.LLMLB_REQUIRE_BROWSER === '1';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A browser with a fresh profile, and the console errors of its pages. */
export interface TestBrowser {
  context: BrowserContext;
  /** Console errors and uncaught page errors, as text. */
  errors: string[];
  /** A new page (tab) whose errors are collected, at the given viewport. */
  page(viewport?: { width: number; height: number }): Promise<Page>;
  /** Closes every open page (before the server they talk to stops). */
  closePages(): Promise<void>;
  close(): Promise<void>;
}

/** Launches Chromium. */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'llmlb-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  const errors: string[] = [];
  return {
    context,
    errors,
    async page(viewport = { width: 1280, height: 800 }) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
      return page;
    },
    async closePages() {
      await Promise.all(context.pages().map((page) => page.close()));
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
