<?xml version="1.0" encoding="UTF-8"?>
<!-- holdings.xsl — makes one city's demo catalogue from a MARCXML collection: each record gets
     the city's own record id in 001 (the original 001 moves to 035) and Koha-style 952 item
     fields for the copies its branches hold ($a home branch, $b holding branch, $c shelving
     location, $o call number, $p barcode, $y item type, $7 not for loan, $q date due).

     Deterministic: which records a city holds, how many copies each branch has and their state
     follow from the record's position and the city's seed, so every run builds the same
     catalogue and the five cities differ. Parameters (xsltproc stringparam): city (slug),
     first-id (number of the first record), due-soon and due-later (YYYY-MM-DD, for copies on
     loan). Used by adapters/sru/zebra/setup. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns="http://www.loc.gov/MARC21/slim"
    xmlns:m="http://www.loc.gov/MARC21/slim"
    xmlns:r="urn:renkei:sru-demo"
    exclude-result-prefixes="m r">
  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>
  <xsl:param name="city"/>
  <xsl:param name="first-id" select="1"/>
  <xsl:param name="due-soon" select="'2030-01-01'"/>
  <xsl:param name="due-later" select="'2030-01-15'"/>

  <!-- The branches of each city whose copies this catalogue lists (the adapter's demo/<slug>.json
       names them; codes must match). -->
  <r:cities>
    <r:city slug="kodaira" seed="1" code="132110">
      <r:branch code="chuo"/><r:branch code="nakamachi"/><r:branch code="hanakoganei"/>
    </r:city>
    <r:city slug="higashimurayama" seed="2" code="132136">
      <r:branch code="chuo"/><r:branch code="fujimi"/><r:branch code="akitsu"/>
    </r:city>
    <r:city slug="nishitokyo" seed="3" code="132292">
      <r:branch code="chuo"/><r:branch code="tanashi"/><r:branch code="hoya-ekimae"/>
      <r:branch code="hibarigaoka"/><r:branch code="yagisawa"/>
    </r:city>
    <r:city slug="kiyose" seed="4" code="132217">
      <r:branch code="chuo"/><r:branch code="ekimae"/><r:branch code="shimojuku"/>
    </r:city>
    <r:city slug="higashikurume" seed="5" code="132225">
      <r:branch code="chuo"/><r:branch code="takiyama"/><r:branch code="tobu"/>
    </r:city>
  </r:cities>

  <xsl:variable name="c" select="document('')/xsl:stylesheet/r:cities/r:city[@slug = $city]"/>
  <xsl:variable name="seed" select="number($c/@seed)"/>

  <xsl:template match="/">
    <xsl:if test="not($c)">
      <xsl:message terminate="yes">holdings.xsl: unknown city '<xsl:value-of select="$city"/>'</xsl:message>
    </xsl:if>
    <collection>
      <xsl:for-each select="m:collection/m:record">
        <xsl:variable name="p" select="position()"/>
        <!-- About one record in seven is not held by a given city. -->
        <xsl:if test="($p * 3 + $seed) mod 7 != 0">
          <xsl:call-template name="record">
            <xsl:with-param name="p" select="$p"/>
          </xsl:call-template>
        </xsl:if>
      </xsl:for-each>
    </collection>
  </xsl:template>

  <xsl:template name="record">
    <xsl:param name="p"/>
    <xsl:variable name="id" select="$first-id + $p - 1"/>
    <record>
      <xsl:copy-of select="m:leader"/>
      <controlfield tag="001"><xsl:value-of select="$id"/></controlfield>
      <xsl:copy-of select="m:controlfield[@tag != '001']"/>
      <datafield tag="035" ind1=" " ind2=" ">
        <subfield code="a"><xsl:value-of select="normalize-space(m:controlfield[@tag = '001'])"/></subfield>
      </datafield>
      <xsl:copy-of select="m:datafield[@tag != '952']"/>
      <xsl:variable name="class">
        <xsl:choose>
          <xsl:when test="m:datafield[@tag = '084']"><xsl:value-of select="normalize-space(m:datafield[@tag = '084']/m:subfield[@code = 'a'])"/></xsl:when>
          <xsl:when test="m:datafield[@tag = '050']"><xsl:value-of select="normalize-space(m:datafield[@tag = '050']/m:subfield[@code = 'a'])"/></xsl:when>
          <xsl:otherwise>0</xsl:otherwise>
        </xsl:choose>
      </xsl:variable>
      <xsl:variable name="reading" select="m:datafield[@tag = '880'][starts-with(m:subfield[@code = '6'], '100')]/m:subfield[@code = 'a']"/>
      <xsl:variable name="name" select="(m:datafield[@tag = '100' or @tag = '110' or @tag = '111']/m:subfield[@code = 'a'] | m:datafield[@tag = '245']/m:subfield[@code = 'a'])[1]"/>
      <xsl:variable name="mark">
        <xsl:choose>
          <xsl:when test="$reading"><xsl:value-of select="substring(normalize-space($reading), 1, 1)"/></xsl:when>
          <xsl:otherwise><xsl:value-of select="substring(normalize-space($name), 1, 1)"/></xsl:otherwise>
        </xsl:choose>
      </xsl:variable>
      <xsl:for-each select="$c/r:branch">
        <xsl:variable name="b" select="position()"/>
        <!-- 0 to 2 copies; the central library (the first branch) always has one more. -->
        <xsl:variable name="copies" select="($p * 7 + $b * 5 + $seed) mod 3 + ($b = 1)"/>
        <xsl:call-template name="items">
          <xsl:with-param name="p" select="$p"/>
          <xsl:with-param name="b" select="$b"/>
          <xsl:with-param name="n" select="$copies"/>
          <xsl:with-param name="id" select="$id"/>
          <xsl:with-param name="call" select="concat($class, '/', $mark)"/>
        </xsl:call-template>
      </xsl:for-each>
    </record>
  </xsl:template>

  <!-- Copies n, n-1 … 1 of one branch. -->
  <xsl:template name="items">
    <xsl:param name="p"/>
    <xsl:param name="b"/>
    <xsl:param name="n"/>
    <xsl:param name="id"/>
    <xsl:param name="call"/>
    <xsl:if test="$n &gt; 0">
      <xsl:variable name="state" select="($p * 11 + $b * 3 + $n * 5 + $seed * 7) mod 10"/>
      <datafield tag="952" ind1=" " ind2=" ">
        <subfield code="a"><xsl:value-of select="@code"/></subfield>
        <subfield code="b"><xsl:value-of select="@code"/></subfield>
        <subfield code="c">
          <xsl:choose>
            <xsl:when test="$state = 8">REF</xsl:when>
            <xsl:otherwise>GEN</xsl:otherwise>
          </xsl:choose>
        </subfield>
        <subfield code="o"><xsl:value-of select="$call"/></subfield>
        <subfield code="p"><xsl:value-of select="concat($c/@code, format-number($id, '000000'), $b, $n)"/></subfield>
        <subfield code="y">BK</subfield>
        <subfield code="7">
          <xsl:choose>
            <xsl:when test="$state = 8">1</xsl:when>
            <xsl:when test="$state = 9">-1</xsl:when>
            <xsl:otherwise>0</xsl:otherwise>
          </xsl:choose>
        </subfield>
        <xsl:if test="$state = 6"><subfield code="q"><xsl:value-of select="$due-soon"/></subfield></xsl:if>
        <xsl:if test="$state = 7"><subfield code="q"><xsl:value-of select="$due-later"/></subfield></xsl:if>
      </datafield>
      <xsl:call-template name="items">
        <xsl:with-param name="p" select="$p"/>
        <xsl:with-param name="b" select="$b"/>
        <xsl:with-param name="n" select="$n - 1"/>
        <xsl:with-param name="id" select="$id"/>
        <xsl:with-param name="call" select="$call"/>
      </xsl:call-template>
    </xsl:if>
  </xsl:template>
</xsl:stylesheet>
