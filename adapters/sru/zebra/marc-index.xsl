<?xml version="1.0" encoding="UTF-8"?>
<!-- marc-index.xsl — what Zebra indexes of a MARC 21 record (MARCXML), for the sru adapter's
     CQL (cql2pqf.txt). Self-contained: it imports nothing (Zebra's examples import a file from
     the network, which stalls on a closed one).

     Indexes: id (001), isbn (020$a as ISBN-13 and as catalogued, digits only), title (245, 246,
     880 linked to 245), author (100/110/700/710 and their 880s), subject (6XX, 084), ndc (084$a),
     publisher (260/264$b), barcode (952$p), year (first four digits of 260/264$c), any (all of them). -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:m="http://www.loc.gov/MARC21/slim"
    xmlns:z="http://indexdata.com/zebra-2.0"
    exclude-result-prefixes="m">
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:template match="text()"/>

  <xsl:template match="/m:record | /m:collection/m:record">
    <z:record z:id="{normalize-space(m:controlfield[@tag='001'])}" type="update">
      <z:index name="id:0"><xsl:value-of select="normalize-space(m:controlfield[@tag='001'])"/></z:index>
      <xsl:apply-templates select="m:datafield"/>
    </z:record>
  </xsl:template>

  <!-- 020$a "0-87983-235-5 (pbk.)": the digits (and X) of its first word, and the ISBN-13. -->
  <xsl:template match="m:datafield[@tag='020']">
    <xsl:for-each select="m:subfield[@code='a']">
      <xsl:variable name="word" select="substring-before(concat(normalize-space(.), ' '), ' ')"/>
      <xsl:variable name="isbn" select="translate(translate($word, '-', ''), 'x', 'X')"/>
      <z:index name="isbn:0"><xsl:value-of select="$isbn"/></z:index>
      <xsl:if test="string-length($isbn) = 10">
        <xsl:variable name="d" select="substring($isbn, 1, 9)"/>
        <xsl:variable name="sum" select="38 + 3 * substring($d, 1, 1) + substring($d, 2, 1)
            + 3 * substring($d, 3, 1) + substring($d, 4, 1) + 3 * substring($d, 5, 1)
            + substring($d, 6, 1) + 3 * substring($d, 7, 1) + substring($d, 8, 1)
            + 3 * substring($d, 9, 1)"/>
        <xsl:if test="string($sum) != 'NaN'">
          <z:index name="isbn:0"><xsl:value-of select="concat('978', $d, (10 - $sum mod 10) mod 10)"/></z:index>
        </xsl:if>
      </xsl:if>
    </xsl:for-each>
  </xsl:template>

  <xsl:template match="m:datafield[@tag='245' or @tag='246'
                       or (@tag='880' and starts-with(m:subfield[@code='6'], '245'))]">
    <xsl:variable name="t">
      <xsl:for-each select="m:subfield[@code='a' or @code='b' or @code='n' or @code='p']">
        <xsl:value-of select="concat(., ' ')"/>
      </xsl:for-each>
    </xsl:variable>
    <z:index name="title:w title:p any:w"><xsl:value-of select="normalize-space($t)"/></z:index>
  </xsl:template>

  <xsl:template match="m:datafield[@tag='100' or @tag='110' or @tag='700' or @tag='710'
                       or (@tag='880' and (starts-with(m:subfield[@code='6'], '100')
                           or starts-with(m:subfield[@code='6'], '700')))]">
    <z:index name="author:w author:p any:w"><xsl:value-of select="normalize-space(m:subfield[@code='a'])"/></z:index>
  </xsl:template>

  <xsl:template match="m:datafield[@tag='600' or @tag='610' or @tag='650' or @tag='651']">
    <xsl:variable name="s">
      <xsl:for-each select="m:subfield[@code='a' or @code='x' or @code='v' or @code='y' or @code='z']">
        <xsl:value-of select="concat(., ' ')"/>
      </xsl:for-each>
    </xsl:variable>
    <z:index name="subject:w any:w"><xsl:value-of select="normalize-space($s)"/></z:index>
  </xsl:template>

  <xsl:template match="m:datafield[@tag='084']">
    <z:index name="ndc:0 subject:w"><xsl:value-of select="normalize-space(m:subfield[@code='a'])"/></z:index>
  </xsl:template>

  <!-- 952$p: the barcode of a copy (Koha-style items), to find a copy's record at checkout. -->
  <xsl:template match="m:datafield[@tag='952']">
    <z:index name="barcode:0"><xsl:value-of select="normalize-space(m:subfield[@code='p'])"/></z:index>
  </xsl:template>

  <xsl:template match="m:datafield[@tag='260' or @tag='264']">
    <xsl:for-each select="m:subfield[@code='b']">
      <z:index name="publisher:w any:w"><xsl:value-of select="normalize-space(.)"/></z:index>
    </xsl:for-each>
    <xsl:for-each select="m:subfield[@code='c']">
      <xsl:variable name="digits" select="translate(., translate(., '0123456789', ''), '')"/>
      <xsl:if test="string-length($digits) &gt;= 4">
        <z:index name="year:0"><xsl:value-of select="substring($digits, 1, 4)"/></z:index>
      </xsl:if>
    </xsl:for-each>
  </xsl:template>
</xsl:stylesheet>
